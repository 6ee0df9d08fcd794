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
    let ticks = 0;
    for (const pid of readdirSync("/proc")) {
      if (!/^\d+$/.test(pid)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      } catch {
        continue; // exited since the listing
      }
      const close = stat.lastIndexOf(")");
      if (stat.slice(stat.indexOf("(") + 1, close) !== comm) continue;
      // Fields after the command: state is the 3rd field of the line, utime the 14th, stime the 15th.
      const fields = stat.slice(close + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    }
    return ticks * TICK_MS;
  };
}
