import type { Rotation, SessionRecord, TokenStore } from "../store.js";
import { rotationOf } from "./harness.js";

/** What a burst of concurrent rotations of one session produced. */
export interface RotationRace {
  /** The rotations that resolved a session; a conforming store has exactly one. */
  winners: Rotation[];
  /** Every rotation attempted, in call order. */
  attempts: Rotation[];
}

/**
 * Fires `n` rotations of `session` at once, all expecting its current hash, each with its own
 * successor, spread round-robin over `stores` (independent connections to the same data).
 *
 * All calls are started before any is awaited, so a store that reads the row, awaits, then
 * writes lets every caller see the old hash and "win": this is the check that tells such a
 * store from an atomic compare-and-set.
 */
export async function raceRotations(
  stores: TokenStore[],
  session: SessionRecord,
  n: number,
  at: number,
): Promise<RotationRace> {
  const attempts = Array.from({ length: n }, () => rotationOf(session, at));
  const results = await Promise.all(
    attempts.map((rotation, i) => (stores[i % stores.length] as TokenStore).rotate(rotation)),
  );
  return { winners: attempts.filter((_, i) => results[i] !== null), attempts };
}
