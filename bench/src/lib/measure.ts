import type { Meter } from "./cpu.js";
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
  return (await run(factory, concurrency, durationMs, [])).rate;
}

/**
 * {@link throughput}, with what each meter counted per operation, from after the workers are
 * set up to when the last operation settled.
 */
async function run(
  factory: WorkerFactory,
  concurrency: number,
  durationMs: number,
  meters: Meter[],
): Promise<{ rate: number; perOp: number[] }> {
  const ops = await Promise.all(Array.from({ length: concurrency }, (_, i) => factory(i)));
  const before = meters.map((read) => read());
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
  const rate = count / ((performance.now() - start) / 1000);
  return { rate, perOp: meters.map((read, i) => (read() - (before[i] as number)) / count) };
}

/** A variant's rates, and what each meter counted per operation in the same runs. */
export type Measured<M extends string> = Stat & { perOp: Record<M, Stat> };

/**
 * Measures every variant `runs` times, interleaved (A B C, B C A, …) so that a noisy neighbour
 * or thermal drift hits all of them alike; each variant gets one discarded warm-up run first.
 */
export async function compare<K extends string, M extends string = never>(
  variants: Record<K, WorkerFactory>,
  options: {
    concurrency: number;
    runs: number;
    durationMs: number;
    /** Counters (e.g. CPU ms) read around each measured run and divided by its operations. */
    meters?: Record<M, Meter>;
  },
): Promise<Record<K, Measured<M>>> {
  const names = Object.keys(variants) as K[];
  const meterNames = Object.keys(options.meters ?? {}) as M[];
  const meters = meterNames.map((m) => (options.meters as Record<M, Meter>)[m]);
  const rates = new Map(names.map((n) => [n, [] as number[]]));
  const costs = new Map(names.map((n) => [n, meterNames.map(() => [] as number[])]));
  for (const name of names) {
    await throughput(variants[name], options.concurrency, options.durationMs / 2);
  }
  for (let round = 0; round < options.runs; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length] as K;
      const { rate, perOp } = await run(
        variants[name],
        options.concurrency,
        options.durationMs,
        meters,
      );
      rates.get(name)?.push(rate);
      for (const [m, value] of perOp.entries()) costs.get(name)?.[m]?.push(value);
    }
  }
  return Object.fromEntries(
    names.map((n) => [
      n,
      {
        ...stat(rates.get(n) as number[]),
        perOp: Object.fromEntries(
          meterNames.map((m, i) => [m, stat(costs.get(n)?.[i] as number[])]),
        ) as Record<M, Stat>,
      },
    ]),
  ) as Record<K, Measured<M>>;
}
