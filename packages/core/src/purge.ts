import { InvalidRequestError } from "./errors.js";
import type { Context } from "./internal/context.js";
import { storeCall } from "./internal/store-call.js";

/** Deletes sessions that ended more than `purgeRetention` ago, in batches. */
export async function purge(ctx: Context, options: { batchSize?: number } = {}): Promise<number> {
  const batchSize = options.batchSize ?? 500;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000) {
    throw new InvalidRequestError("malformed", "batchSize must be an integer between 1 and 100000");
  }
  const before = new Date(ctx.now() - ctx.config.purgeRetention * 1000);
  let total = 0;
  for (;;) {
    const deleted = await storeCall("purge", ctx.store.purge(before, batchSize));
    total += deleted;
    if (deleted < batchSize) return total;
  }
}
