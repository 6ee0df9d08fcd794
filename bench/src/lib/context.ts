import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Row } from "./report.js";

/** What every section gets from the runner. */
export interface BenchContext {
  /** Repeated runs per figure (the median is reported, with the range). */
  runs: number;
  /** Length of one in-process measurement. */
  durationMs: number;
  /** Length of one HTTP load run. */
  httpDurationSec: number;
  add(row: Row): void;
  /** A line under the section's table: a skip, a caveat, a detail needed to read a figure. */
  note(section: string, text: string): void;
  log(text: string): void;
  /** Records the version of something a figure depends on (shown in the machine description). */
  version(name: string, version: string): void;
}

export interface Section {
  id: string;
  title: string;
  run(ctx: BenchContext): Promise<void>;
}

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

/** Integer from the environment, or the default. */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

/** List of positive integers from the environment ("1,8,32"), or the default. */
export function envList(name: string, fallback: number[]): number[] {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  return raw.split(",").map((part) => {
    const value = Number(part.trim());
    if (!Number.isInteger(value) || value < 1) throw new Error(`${name}: "${part}" is not a count`);
    return value;
  });
}

/**
 * Imports a workspace package from source if it has been written yet. Returns the reason it
 * cannot be used otherwise, so the section can skip with a note instead of failing the run.
 */
export async function workspacePackage<T>(
  name: string,
): Promise<{ module: T; reason?: undefined } | { module?: undefined; reason: string }> {
  const dir = name.replace("@tokens/", "");
  const entry = `${repoRoot}packages/${dir}/src/index.ts`;
  if (!existsSync(entry)) return { reason: `${name} is not there yet (no src/index.ts)` };
  try {
    return { module: (await import(name)) as T };
  } catch (error) {
    return { reason: `${name} failed to load: ${(error as Error).message.split("\n")[0]}` };
  }
}
