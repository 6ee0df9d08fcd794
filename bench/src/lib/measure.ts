import { type Stat, stat } from "./stats.js";

/** One operation; sync operations are run back to back, async ones awaited. */
export type Op = () => unknown;

/**
 * Makes the operation a worker runs. Workers that carry state (a refresh chain keeps its latest
 * token) get their own; stateless benchmarks return the same function every time.
 */
export type WorkerFactory = (worker: number) => Op | Promise<Op>;

// Results land here so the engine cannot drop a computation whose value nobody reads.
export let sink: unknown;

/**
 * Operations per second with `concurrency` operations in flight (a closed loop: each worker
 * starts its next operation when the previous one settles) for `durationMs`.
 */
export async function throughput(
  factory: WorkerFactory,
  concurrency: number,
  durationMs: number,
): Promise<number> {
  const ops = await Promise.all(Array.from({ length: concurrency }, (_, i) => factory(i)));
  let count = 0;
  const start = performance.now();
  const end = start + durationMs;
  await Promise.all(
    ops.map(async (op) => {
      while (performance.now() < end) {
        const result = op();
        sink = result instanceof Promise ? await result : result;
        count++;
      }
    }),
  );
  return count / ((performance.now() - start) / 1000);
}

/**
 * Measures every variant `runs` times, interleaved (A B C, B C A, …) so that a noisy neighbour
 * or thermal drift hits all of them alike; each variant gets one discarded warm-up run first.
 */
export async function compare<K extends string>(
  variants: Record<K, WorkerFactory>,
  options: { concurrency: number; runs: number; durationMs: number },
): Promise<Record<K, Stat>> {
  const names = Object.keys(variants) as K[];
  const samples = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>;
  for (const name of names) {
    await throughput(variants[name], options.concurrency, options.durationMs / 2);
  }
  for (let run = 0; run < options.runs; run++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(run + i) % names.length] as K;
      samples[name].push(await throughput(variants[name], options.concurrency, options.durationMs));
    }
  }
  return Object.fromEntries(names.map((n) => [n, stat(samples[n])])) as Record<K, Stat>;
}
