import { formatRatio, formatStat, pairedRatio, type Stat } from "./stats.js";

/**
 * A target the project holds itself to: the subject must reach `min` × its baseline (rates), or
 * stay at or below `max` × its baseline (costs, where lower is better).
 */
export type Target = { text: string } & (
  | { min: number; max?: never }
  | { max: number; min?: never }
);

export interface Row {
  section: string;
  measure: string;
  concurrency: number | string;
  unit: string;
  value: Stat;
  baseline?: { name: string; value: Stat };
  target?: Target;
}

export interface Verdict {
  ratio?: Stat;
  pass?: boolean;
}

export function verdict(row: Row): Verdict {
  if (!row.baseline) return {};
  const ratio = pairedRatio(row.value.samples, row.baseline.value.samples);
  const { target } = row;
  if (!target) return { ratio };
  return {
    ratio,
    pass: target.min !== undefined ? ratio.median >= target.min : ratio.median <= target.max,
  };
}

const HEADER = ["Measure", "Conc.", "Value", "Baseline", "Ratio", "Target", ""];

function cells(row: Row): string[] {
  const { ratio, pass } = verdict(row);
  // Rows whose values are themselves ratios (retention from one data size to another).
  const value = (s: Stat) => (row.unit === "×" ? formatRatio(s) : formatStat(s));
  return [
    row.measure,
    String(row.concurrency),
    row.unit === "×" ? value(row.value) : `${value(row.value)} ${row.unit}`,
    row.baseline ? `${row.baseline.name}: ${value(row.baseline.value)}` : "—",
    ratio ? formatRatio(ratio) : "—",
    row.target?.text ?? "",
    pass === undefined ? "" : pass ? "PASS" : "MISS",
  ];
}

/** GitHub-flavoured Markdown table of one section's rows. */
export function markdownTable(rows: Row[]): string {
  const escapeCell = (s: string) => s.replaceAll("|", "\\|");
  const lines = [
    `| ${HEADER.join(" | ")} |`,
    `|${HEADER.map(() => "---").join("|")}|`,
    ...rows.map((row) => `| ${cells(row).map(escapeCell).join(" | ")} |`),
  ];
  return lines.join("\n");
}

/** A plain fixed-width table for the terminal. */
export function textTable(rows: Row[]): string {
  const table = [HEADER, ...rows.map(cells)];
  const widths = HEADER.map((_, i) => Math.max(...table.map((r) => (r[i] ?? "").length)));
  return table
    .map((r) => r.map((c, i) => c.padEnd(widths[i] as number)).join("  "))
    .join("\n")
    .trimEnd();
}
