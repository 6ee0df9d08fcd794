import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import { repoRoot } from "./context.js";

/** Version of `name` as installed for the workspace package in `dir` (relative to the repo). */
export function installedVersion(name: string, dir = "bench"): string | undefined {
  for (const base of [dir, "bench", "."]) {
    const file = `${repoRoot}${base}/node_modules/${name}/package.json`;
    if (existsSync(file))
      return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
  }
  return undefined;
}

function workspaceVersion(dir: string): string | undefined {
  const file = `${repoRoot}${dir}/package.json`;
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}

function git(...args: string[]): string {
  try {
    return execFileSync("git", args, { cwd: repoRoot, encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}

export interface Machine {
  lines: string[];
  packages: [string, string][];
}

/** The facts needed to compare these figures with another run. */
export function describeMachine(serverVersions: Record<string, string>): Machine {
  const cpus = os.cpus();
  // The results file itself does not count: a run often follows a run that rewrote it.
  const dirty = git("status", "--porcelain", "--", ".", ":!bench/RESULTS.md").length > 0;
  const lines = [
    `CPU: ${cpus[0]?.model ?? "unknown"}, ${os.availableParallelism()} logical cores`,
    `Memory: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `OS: ${os.type()} ${os.release()} (${os.arch()})`,
    `Node.js: ${process.version}`,
    ...Object.values(serverVersions).map((version) => `Database: ${version}`),
    `Commit: ${git("rev-parse", "--short", "HEAD")}${dirty ? " (working tree with uncommitted changes)" : ""}`,
  ];
  const packages: [string, string][] = [];
  for (const dir of ["core", "memory", "drizzle", "prisma", "http", "express", "fastify", "hono"]) {
    const version = workspaceVersion(`packages/${dir}`);
    if (version) packages.push([`@tokens/${dir}`, version]);
  }
  const quickstart = workspaceVersion("examples/quickstart");
  if (quickstart) packages.push(["quickstart (example)", quickstart]);
  const deps: [string, string][] = [
    ["jose", "packages/core"],
    ["@noble/hashes", "packages/core"],
    ["oidc-provider", "bench"],
    ["autocannon", "bench"],
    ["express", "bench"],
    ["fastify", "bench"],
    ["hono", "bench"],
    ["@hono/node-server", "bench"],
    ["pg", "bench"],
    ["mysql2", "bench"],
    ["@libsql/client", "bench"],
    ["@electric-sql/pglite", "bench"],
    ["drizzle-orm", "packages/drizzle"],
    ["@prisma/client", "packages/prisma"],
    ["tsx", "bench"],
  ];
  for (const [name, dir] of deps) {
    const version = installedVersion(name, dir);
    if (version) packages.push([name, version]);
  }
  return { lines, packages };
}
