/**
 * `tsx src/profile-summary.ts FILE.cpuprofile [top]`: where a V8 CPU profile (node --cpu-prof)
 * spends its time — self time by file (package) and by function, and inclusive time of the
 * functions that matter for tokens.
 */
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error("usage: profile-summary FILE.cpuprofile [top]");
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const node of profile.nodes)
  for (const child of node.children ?? []) parent.set(child, node.id);

const selfTime = new Map<number, number>();
profile.samples.forEach((id, i) => {
  selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
// Percentages are of busy time: a server waiting for requests is idle, which says nothing.
const idleIds = new Set(
  profile.nodes.filter((n) => n.callFrame.functionName === "(idle)").map((n) => n.id),
);
const total = [...selfTime.entries()]
  .filter(([id]) => !idleIds.has(id))
  .reduce((a, [, b]) => a + b, 0);

/** "jose", "@tokens/core internal/access-token.ts", "node:internal/…", "(garbage collector)". */
function place(url: string, name: string): string {
  if (!url) return name.startsWith("(") ? name : "(native)";
  const pkg = url.match(/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/);
  if (pkg) return pkg[1] as string;
  const ws = url.match(/\/(packages|examples)\/([^/]+)\/src\/(.+)$/);
  if (ws) return `${ws[1] === "examples" ? "" : "@tokens/"}${ws[2]} ${ws[3]}`;
  if (url.includes("/bench/src/")) return `bench ${url.split("/bench/src/")[1]}`;
  return url.replace(/^file:\/\//, "");
}

const pct = (ms: number) => `${((ms / total) * 100).toFixed(1).padStart(5)}%`;
function table(title: string, map: Map<string, number>) {
  console.log(`\n${title}`);
  for (const [key, value] of [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${pct(value)}  ${key}`);
  }
}

const byPlace = new Map<string, number>();
const byFunction = new Map<string, number>();
for (const [id, time] of selfTime) {
  if (idleIds.has(id)) continue;
  const { functionName, url, lineNumber } = (byId.get(id) as Node).callFrame;
  const where = place(url, functionName);
  byPlace.set(where, (byPlace.get(where) ?? 0) + time);
  const key = `${functionName || "(anonymous)"}  [${where}:${lineNumber + 1}]`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + time);
}

// Inclusive time: each sample counts once for every distinct function on its stack.
const inclusive = new Map<string, number>();
profile.samples.forEach((id, i) => {
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const { functionName, url, lineNumber } = (byId.get(at) as Node).callFrame;
    if (!functionName || !url) continue;
    const key = `${functionName}  [${place(url, functionName)}:${lineNumber + 1}]`;
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
});

console.log(`${file}: ${(total / 1000).toFixed(0)} ms busy (percentages are of busy time)`);
table("Self time by file / package", byPlace);
table("Self time by function", byFunction);
table("Inclusive time by function", inclusive);
