/**
 * `pnpm bench`: runs every section (or those named by `--only crypto,core,adapters,http,peer`),
 * prints each section's table as it finishes and, on a full run, writes bench/RESULTS.md
 * (`--out FILE` writes it elsewhere, also for a partial run).
 *
 * Settings (environment):
 * - BENCH_RUNS: repeats per figure (default 5); BENCH_DURATION_MS: one in-process measurement
 *   (default 400); BENCH_HTTP_DURATION: seconds per HTTP load run (default 1).
 * - POSTGRES_URL, MYSQL_URL: servers for the adapters section (it uses its own database
 *   `tokens_bench` on each); without them those databases are skipped.
 * - BENCH_PG_SESSIONS (default 10000,1000000), BENCH_SESSIONS (other databases, the same default):
 *   stored sessions per step; BENCH_ADAPTER_CONCURRENCY (1,8,32), BENCH_LARGE_CONCURRENCY (32,
 *   the one used past the first size), BENCH_ADAPTER_DURATION_MS (800), BENCH_POOL_SIZE (32),
 *   BENCH_DATABASES (postgresql,mariadb,sqlite,pglite).
 * - BENCH_HTTP_CONCURRENCY (1,8,32), BENCH_FRAMEWORKS (node,express,fastify,hono).
 * - BENCH_CPU_PROF=DIR: every server process runs with --cpu-prof into DIR (servers.txt maps
 *   process ids to servers); see also `pnpm --filter bench cpu-profile`.
 */
import { writeFileSync } from "node:fs";
import os from "node:os";
import { adaptersSection } from "./adapters.js";
import { coreSection } from "./core.js";
import { cryptoSection } from "./crypto.js";
import { httpSection } from "./http.js";
import { type BenchContext, envInt, repoRoot, type Section } from "./lib/context.js";
import { describeMachine } from "./lib/machine.js";
import { markdownTable, type Row, textTable, verdict } from "./lib/report.js";
import { formatRatio } from "./lib/stats.js";
import { peerSection } from "./peer.js";

const SECTIONS: Section[] = [cryptoSection, coreSection, adaptersSection, httpSection, peerSection];

function parseArgs(argv: string[]): { only?: Set<string>; out?: string } {
  const result: { only?: Set<string>; out?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.split("=", 2) as [string, string | undefined];
    const value = () => inline ?? (argv[++i] as string | undefined) ?? "";
    if (flag === "--only") result.only = new Set(value().split(",").filter(Boolean));
    else if (flag === "--out") result.out = value();
    else if (arg !== "--")
      throw new Error(`unknown argument ${arg} (use --only a,b and --out FILE)`);
  }
  const unknown = [...(result.only ?? [])].filter((id) => !SECTIONS.some((s) => s.id === id));
  if (unknown.length > 0) {
    throw new Error(
      `unknown section ${unknown.join(", ")}; sections: ${SECTIONS.map((s) => s.id).join(", ")}`,
    );
  }
  return result;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const selected = SECTIONS.filter((s) => !args.only || args.only.has(s.id));
  const rows: Row[] = [];
  const notes = new Map<string, string[]>();
  const versions: Record<string, string> = {};
  const startedAt = new Date();
  const loadBefore = os.loadavg();
  const ctx: BenchContext = {
    runs: envInt("BENCH_RUNS", 5),
    durationMs: envInt("BENCH_DURATION_MS", 400),
    httpDurationSec: envInt("BENCH_HTTP_DURATION", 1),
    add: (row) => rows.push(row),
    note: (section, text) => notes.set(section, [...(notes.get(section) ?? []), text]),
    log: (text) =>
      console.error(`[bench +${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)}s] ${text}`),
    version: (name, version) => {
      versions[name] = version;
    },
  };

  for (const section of selected) {
    ctx.log(`section ${section.id}`);
    try {
      await section.run(ctx);
    } catch (error) {
      ctx.note(section.id, `section failed: ${(error as Error).stack ?? String(error)}`);
    }
    const sectionRows = rows.filter((r) => r.section === section.id);
    console.log(`\n## ${section.title}\n`);
    if (sectionRows.length > 0) console.log(textTable(sectionRows));
    for (const note of notes.get(section.id) ?? []) console.log(`- ${note}`);
  }

  const minutes = (Date.now() - startedAt.getTime()) / 60_000;
  const targets = rows.filter((r) => r.target);
  if (targets.length > 0) {
    console.log("\n## Targets\n");
    for (const row of targets) {
      const { ratio, pass } = verdict(row);
      console.log(
        `${pass ? "PASS" : "MISS"}  ${row.measure} @${row.concurrency}: ${ratio ? formatRatio(ratio) : "?"} (${row.target?.text})`,
      );
    }
  }
  const out = args.out ?? (args.only ? undefined : `${repoRoot}bench/RESULTS.md`);
  if (out) {
    writeFileSync(
      out,
      renderMarkdown({ selected, rows, notes, versions, startedAt, minutes, loadBefore, ctx }),
    );
    console.log(`\nwrote ${out} (${minutes.toFixed(1)} min)`);
  }
}

function renderMarkdown(input: {
  selected: Section[];
  rows: Row[];
  notes: Map<string, string[]>;
  versions: Record<string, string>;
  startedAt: Date;
  minutes: number;
  loadBefore: number[];
  ctx: BenchContext;
}): string {
  const { selected, rows, notes, versions, startedAt, minutes, loadBefore, ctx } = input;
  const machine = describeMachine(versions);
  const load = (l: number[]) => l.map((n) => n.toFixed(2)).join(", ");
  const out: string[] = [
    "# Benchmark results",
    "",
    `Written by \`pnpm bench\` on ${startedAt.toISOString()} in ${minutes.toFixed(1)} minutes. Every figure is the median of ${ctx.runs} runs, with the range (min–max) in brackets, and stands beside a baseline measured in the same run, interleaved with it (subject, baseline, subject, …). Ratios are medians of the per-run ratios subject ÷ baseline. In-process measurements last ${ctx.durationMs} ms each (store measurements ${process.env.BENCH_ADAPTER_DURATION_MS ?? 800} ms); HTTP load runs ${ctx.httpDurationSec} s each. Settings are described in bench/src/run.ts.`,
    "",
    "## Machine",
    "",
    ...machine.lines.map((line) => `- ${line}`),
    `- Load average (1, 5, 15 min) before the run: ${load(loadBefore)}; after: ${load(os.loadavg())}`,
    "- The load client, the server under test and the database share these cores, and other processes were running on the machine during the run. Absolute figures are therefore low and noisy; the ratios, whose two sides shared the same conditions, are the figures to read.",
    "",
    "| Package | Version |",
    "|---|---|",
    ...machine.packages.map(([name, version]) => `| ${name} | ${version} |`),
    "",
  ];
  const targets = rows.filter((r) => r.target);
  if (targets.length > 0) {
    out.push("## Targets", "", "| Target | Measure | Conc. | Ratio | |", "|---|---|---|---|---|");
    for (const row of targets) {
      const { ratio, pass } = verdict(row);
      out.push(
        `| ${row.target?.text} | ${row.measure} | ${row.concurrency} | ${ratio ? formatRatio(ratio) : "—"} | ${pass ? "PASS" : "MISS"} |`,
      );
    }
    out.push("");
  }
  for (const section of selected) {
    out.push(`## ${section.title}`, "");
    const sectionRows = rows.filter((r) => r.section === section.id);
    if (sectionRows.length > 0) out.push(markdownTable(sectionRows), "");
    for (const note of notes.get(section.id) ?? []) out.push(`- ${note.replaceAll("\n", "\n  ")}`);
    out.push("");
  }
  return `${out.join("\n").trimEnd()}\n`;
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
