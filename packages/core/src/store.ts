/**
 * The client context a session was issued to. Every field is optional; what is compared on
 * refresh is decided by the binding policy, what is shown in a devices list is all of it.
 */
export interface ClientContext {
  /** A stable id the app gives the device or installation. */
  deviceId?: string;
  /** The `User-Agent` header. */
  userAgent?: string;
  /** The client's IP address (v4 or v6). */
  ip?: string;
}

/**
 * One login session: the family of refresh tokens that descend from one issue, kept as one row.
 *
 * A refresh token names its session and generation and carries a MAC under a server-held key
 * (derived from the signing keys, never stored), so no row per token is needed: the session row
 * names the live token (`currentHash`), its immediate predecessor (`previousHash`) and the
 * predecessor's sealed successor, and a rotation is one compare-and-set on this row, found by
 * its primary key. A refresh changes none of the columns a store indexes (`id`, `subject`,
 * `purgeAfter`, the last only once per granule), so a database can update the row in place.
 */
export interface SessionRecord {
  /** Session id (the access token's `sid`): base64url of 16 random bytes. The primary key. */
  id: string;
  /** The subject (user id) the session belongs to. Indexed (sessions list, revokeSubject). */
  subject: string;
  /** The OAuth `client_id` the session was issued to. */
  clientId: string;
  /** Generation of the live token: 0 at issue, +1 per rotation. */
  generation: number;
  /** Hash of the live refresh token's secret. */
  currentHash: string;
  /** Hash of the token the live one replaced, or `null` before the first rotation. */
  previousHash: string | null;
  /**
   * The live token's secret, sealed under the previous token's secret (so only a holder of the
   * previous token can open it; the store alone cannot). `null` before the first rotation.
   */
  sealedSuccessor: string | null;
  /** When the previous token was spent, or `null` before the first rotation. */
  rotatedAt: Date | null;
  /** When the session was issued. */
  createdAt: Date;
  /** When a refresh token of the session was last exchanged (the issue time until then). */
  lastUsedAt: Date;
  /** The live token dies at this instant unless rotated: min(last use + idle TTL, `expiresAt`). */
  idleExpiresAt: Date;
  /** Absolute end of the session, however active. */
  expiresAt: Date;
  /**
   * A coarse lower bound of the instant the session ends (the idle deadline rounded down to a
   * granule, capped by `expiresAt` and by `revokedAt`): the one column purge looks sessions up
   * by. Coarse on purpose: consecutive refreshes leave it unchanged, so indexing it costs a
   * refresh no index write.
   */
  purgeAfter: Date;
  /** When the session was revoked, or `null` while it is not. */
  revokedAt: Date | null;
  /** Why it was revoked (`logout`, `reused`, `subject_revoked`, …), or `null`. */
  revokeReason: string | null;
  /** The client context recorded at issue (binding and devices list), or `null`. */
  client: ClientContext | null;
  /**
   * A digest of the client fields the binding policy compares exactly, set by core at issue, or
   * `null` when the policy compares none. Opaque to stores: {@link TokenStore.rotate} compares
   * it for equality only, so a store enforces the binding without knowing its rules.
   */
  bindingKey: string | null;
  /** App claims copied into every access token of the session, or `null`. */
  claims: Record<string, unknown> | null;
  /**
   * The RFC 7638 thumbprint (`jkt`) of the DPoP public key the session is bound to (RFC 9449),
   * or `null` when it is not bound. Set by core at issue and never changed: every refresh of a
   * bound session must prove possession of that key. Opaque to stores, compared for equality.
   */
  dpopJkt: string | null;
}

/**
 * The compare-and-set that spends the live token and installs its successor:
 * {@link TokenStore.rotate}. Carries everything core checks against the session, so the store
 * refuses in the same statement that rotates.
 */
export interface Rotation {
  /** The session to rotate (its primary key, read from the presented token). */
  sessionId: string;
  /** The presented token's hash: the session's `currentHash` must equal it. */
  expectedHash: string;
  /** The successor's hash: becomes `currentHash`. */
  successorHash: string;
  /** The successor's generation (the presented token's + 1): becomes `generation`. */
  generation: number;
  /** The successor's secret sealed under the presented token's secret. */
  sealedSuccessor: string;
  /**
   * The instant of the rotation: the session must be live at it (`expiresAt` and
   * `idleExpiresAt` after it); it becomes `rotatedAt` and `lastUsedAt`.
   */
  rotatedAt: Date;
  /** The new idle deadline before capping: the store sets min(this, the session's `expiresAt`). */
  idleExpiresAt: Date;
  /** The new `purgeAfter` before capping: the store sets min(this, the session's `expiresAt`). */
  purgeAfter: Date;
  /** When given, the session's `clientId` must equal it. */
  clientId?: string;
  /**
   * When given, the session's `bindingKey` must equal it (`null` equals `null` only). Absent when
   * core has already compared the client context itself (IP policies).
   */
  bindingKey?: string | null;
  /**
   * The thumbprint of the DPoP key the request proved possession of, or `null` when it proved
   * none. Always given: the session's `dpopJkt` must be `null` or equal to it, so a bound session
   * rotates only for a proof made with its own key (an unbound session rotates either way).
   */
  dpopJkt: string | null;
}

/**
 * The storage contract: seven methods over one row per session. Small on purpose: every rule
 * lives in core; a store keeps rows and provides one atomic compare-and-set.
 *
 * What a store indexes: the primary key `id`, `subject` (listSessions, revokeSubject) and
 * `purgeAfter` (purge), and nothing a rotation changes. A rotation is one write of one row by
 * primary key; nothing else is written on the refresh path.
 *
 * Failures: a store throws {@link StoreUnavailableError} when the database cannot be reached or
 * fails mid-operation (wrap the driver error as `cause`). Every method is all-or-nothing: after a
 * failure the rows are as before the call or as after it, never in between. A store that can
 * meet a transient conflict (a deadlock, a serialization failure) retries it itself a bounded
 * number of times; a caller never sees one. Dates go in and come out as `Date`; stores may round
 * to milliseconds.
 *
 * Run `runStoreConformance` from `@tokens/core/testing` to prove an implementation.
 *
 * @example
 * ```ts
 * import type { TokenStore } from "@tokens/core";
 *
 * export function myStore(db: Db): TokenStore {
 *   return {
 *     createSession: (session) => db.insert(...),
 *     getSession: (id) => db.query(...),
 *     rotate: (rotation) => db.update(...), // UPDATE … WHERE id = ? AND current_hash = ? … RETURNING *
 *     // ...
 *   };
 * }
 * ```
 */
export interface TokenStore {
  /** Persist a new session. Rejects, storing nothing, if a session with its id exists. */
  createSession(session: SessionRecord): Promise<void>;

  /** Return the session with this id (revoked and expired ones too: core decides), or `null`. */
  getSession(id: string): Promise<SessionRecord | null>;

  /**
   * The atomic heart of the contract: one conditional write of one row. If and only if the
   * session `rotation.sessionId` exists, is not revoked, its `currentHash` equals
   * `rotation.expectedHash`, its `expiresAt` and `idleExpiresAt` are both after
   * `rotation.rotatedAt`, its `clientId` equals `rotation.clientId` when that is given, its
   * `bindingKey` equals `rotation.bindingKey` when that is given (`null` equals `null`) and its
   * `dpopJkt` is `null` or equals `rotation.dpopJkt`, then in
   * one atomic step set `generation = rotation.generation`, `previousHash = expectedHash`,
   * `currentHash = successorHash`, `sealedSuccessor`, `rotatedAt`, `lastUsedAt = rotatedAt`,
   * `idleExpiresAt = min(rotation.idleExpiresAt, expiresAt)` and
   * `purgeAfter = min(rotation.purgeAfter, expiresAt)`, and resolve the session as it is after
   * the write. Otherwise change nothing and resolve `null`.
   *
   * Of any number of concurrent calls with the same `sessionId` and `expectedHash` — from one
   * process or many, through any number of connections — **exactly one** resolves a session.
   * A call that resolves `null` writes nothing at all.
   *
   * A store may run calls that arrive together as one statement or transaction (the SQL stores
   * do, see `@tokens/core/sql`) as long as each is still this compare-and-set on its own row with
   * its own values: a call's outcome must never depend on the others it was batched with.
   */
  rotate(rotation: Rotation): Promise<SessionRecord | null>;

  /**
   * Return the subject's sessions that are not revoked and whose `idleExpiresAt` and
   * `expiresAt` are both after `now`, oldest `createdAt` first.
   */
  listSessions(subject: string, now: Date): Promise<SessionRecord[]>;

  /**
   * Mark the session revoked (`revokedAt = at`, `revokeReason = reason`,
   * `purgeAfter = min(purgeAfter, at)`) unless it already is. Resolve `true` if this call revoked
   * it, `false` if it was already revoked or does not exist. A revocation and a concurrent
   * `rotate` are ordered: once this resolves, no `rotate` of the session can resolve a session.
   */
  revokeSession(id: string, at: Date, reason: string): Promise<boolean>;

  /**
   * Revoke every not-yet-revoked session of the subject, as `revokeSession` does, and resolve
   * how many were revoked. Other subjects' sessions are untouched.
   */
  revokeSubject(subject: string, at: Date, reason: string): Promise<number>;

  /**
   * Delete up to `limit` sessions that ended before `before` — revoked before it, or with
   * `idleExpiresAt` or `expiresAt` before it — and resolve the number deleted. Sessions that end
   * later stay. Find them through `purgeAfter < before` (every ended session's `purgeAfter` is at
   * or before its end) and check the exact condition on those rows. Called in a loop by core
   * until it returns less than `limit`, so each call should be short.
   */
  purge(before: Date, limit: number): Promise<number>;
}
