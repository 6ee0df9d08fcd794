import { readdirSync, readFileSync } from "node:fs";

/** A cumulative counter (here: CPU milliseconds), read before and after each measured run. */
export type Meter = () => number;

/** CPU time this process has used (every thread: main, libuv pool, in-process databases), ms. */
export const processCpu: Meter = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

// /proc/<pid>/stat counts in clock ticks; Linux reports USER_HZ = 100 to user space.
const TICK_MS = 10;

/** CPU time of one process from /proc/<pid>/stat, in ms; `undefined` if it cannot be read. */
function procStatCpu(pid: string | number, comm?: string): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined; // not Linux, or the process has exited
  }
  const close = stat.lastIndexOf(")");
  if (comm !== undefined && stat.slice(stat.indexOf("(") + 1, close) !== comm) return undefined;
  // Fields after the command: state is the 3rd field of the line, utime the 14th, stime the 15th.
  const fields = stat.slice(close + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/**
 * CPU time used by every process named `comm` (e.g. all PostgreSQL backends), in ms, from
 * /proc — Linux only; `undefined` elsewhere.
 */
export function processesCpu(comm: string): Meter | undefined {
  try {
    readdirSync("/proc/self");
  } catch {
    return undefined;
  }
  return () => {
    let total = 0;
    for (const pid of readdirSync("/proc")) {
      if (/^\d+$/.test(pid)) total += procStatCpu(pid, comm) ?? 0;
    }
    return total;
  };
}

/** CPU time of the process `pid` (every thread), in ms, from /proc — `undefined` elsewhere. */
export function processCpuOf(pid: number): Meter | undefined {
  if (procStatCpu(pid) === undefined) return undefined;
  return () => procStatCpu(pid) ?? Number.NaN;
}
