import type { ResolvedConfig } from "../types.js";

const MINUTE = 60_000;
const DAY = 86_400_000;

/**
 * A session's `purgeAfter` for an idle deadline: the deadline rounded down to a granule of an
 * eighth of the idle lifetime (one minute to one day). Refreshes move the deadline by the time
 * between them, so most leave the rounded value, and with it the purge index, unchanged; purge
 * checks the exact deadline on the rows it finds, so the rounding never changes what it deletes.
 */
export function purgeAfter(config: ResolvedConfig, idleExpiresAt: number): Date {
  const granule = Math.min(DAY, Math.max(MINUTE, (config.refreshIdleTtl * 1000) / 8));
  return new Date(Math.floor(idleExpiresAt / granule) * granule);
}
