import { ConfigurationError } from "../errors.js";

/** One day in seconds. */
export const DAY = 86_400;

/** A duration option in seconds: `fallback` when absent, else a number within [min, max]. */
export function seconds(
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  max = 10 * 365 * DAY,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw new ConfigurationError(
      `${name}: expected seconds between ${min} and ${max}, got ${String(value)}`,
    );
  }
  return value;
}

/** A count option: `fallback` (default: no limit) when absent, else a positive integer. */
export function count(
  name: string,
  value: unknown,
  fallback = Number.POSITIVE_INFINITY,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > max) {
    throw new ConfigurationError(
      `${name}: expected a positive integer of at most ${max}, got ${String(value)}`,
    );
  }
  return value;
}
