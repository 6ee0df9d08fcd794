/**
 * The proof identifiers one instance has seen, each until the instant its proof stops being
 * accepted anyway. Bounded: beyond `limit` entries the oldest is forgotten first, so memory stays
 * at most `limit` entries (each a thumbprint and a `jti` of at most 256 characters) whatever the
 * traffic — at the price that, under more than `limit` proofs within one proof window, a proof
 * older than the last `limit` could be replayed once within its window.
 */
export class ReplayCache {
  // Insertion order is (about) expiry order: every proof expires a fixed time after its iat,
  // and iat is near the time of use. Expired entries are dropped from the oldest end.
  private readonly seen = new Map<string, number>();

  constructor(private readonly limit: number) {}

  /** How many identifiers are remembered. */
  get size(): number {
    return this.seen.size;
  }

  /**
   * Records `id` as used until `expiresAt` (epoch ms). `false` if it was already used and its
   * entry has not expired at `now`: a replay.
   */
  use(id: string, expiresAt: number, now: number): boolean {
    for (const [oldest, expiry] of this.seen) {
      if (expiry > now) break;
      this.seen.delete(oldest);
    }
    const expiry = this.seen.get(id);
    if (expiry !== undefined && expiry > now) return false;
    this.seen.delete(id);
    this.seen.set(id, expiresAt);
    if (this.seen.size > this.limit) {
      this.seen.delete(this.seen.keys().next().value as string);
    }
    return true;
  }
}
