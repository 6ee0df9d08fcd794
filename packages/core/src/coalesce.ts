/** Runs `callback` once the current turn of the event loop is done (after its I/O callbacks). */
const afterThisTurn: (callback: () => void) => void =
  typeof (globalThis as { setImmediate?: unknown }).setImmediate === "function"
    ? (callback) => (globalThis as { setImmediate(cb: () => void): unknown }).setImmediate(callback)
    : (callback) => setTimeout(callback, 0);

/**
 * Gathers the calls made during one turn of the event loop into one call of `run`, which answers
 * each item in order: for a store, many refreshes in one statement and one commit instead of one
 * each. A call made alone waits for nothing but the end of its turn; under load the calls that
 * arrive together (the answers of one batch start the next refreshes together) go together. At
 * most `maxBatch` items go to one `run`; more are split. `run` answers each item with its result
 * or a promise of it (which may reject for that item alone); when `run` itself rejects, every
 * call of that batch rejects with its error.
 *
 * @example
 * ```ts
 * import { coalesced } from "@tokens/core/sql";
 *
 * const rotate = coalesced(async (rotations: Rotation[]) => {
 *   const rows = await sql.rotateMany(rotations); // one statement for all
 *   return rotations.map((_, i) => rows[i] ?? null);
 * });
 * const session = await rotate(rotation);
 * ```
 */
export function coalesced<T, R>(
  run: (items: T[]) => Promise<Array<R | PromiseLike<R>>>,
  maxBatch = 64,
): (item: T) => Promise<R> {
  let pending: Array<{
    item: T;
    resolve(value: R | PromiseLike<R>): void;
    reject(error: unknown): void;
  }> = [];
  const flush = () => {
    const batch = pending;
    pending = [];
    for (let start = 0; start < batch.length; start += maxBatch) {
      const part = batch.slice(start, start + maxBatch);
      new Promise<Array<R | PromiseLike<R>>>((answer) =>
        answer(run(part.map((call) => call.item))),
      ).then(
        (results) => {
          part.forEach((call, i) => {
            call.resolve(results[i] as R | PromiseLike<R>);
          });
        },
        (error: unknown) => {
          for (const call of part) call.reject(error);
        },
      );
    }
  };
  return (item) =>
    new Promise<R>((resolve, reject) => {
      if (pending.length === 0) afterThisTurn(flush);
      pending.push({ item, resolve, reject });
    });
}
