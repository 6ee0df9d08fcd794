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
 * One login session: the family of refresh tokens that descend from one issue.
 *
 * The session row is the single point of truth for rotation: it names the live token
 * (`currentHash`), its immediate predecessor (`previousHash`) and the predecessor's sealed
 * successor, so a rotation is one compare-and-set on one row.
 */
export interface SessionRecord {
  /** Session id (the access token's `sid`). URL-safe, unique. */
  id: string;
  /** The subject (user id) the session belongs to. */
  subject: string;
  /** The OAuth `client_id` the session was issued to. */
  clientId: string;
  /** Generation of the live token: 0 at issue, +1 per rotation. */
  generation: number;
  /** Hash of the live refresh token. */
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
  /** When the session was revoked, or `null` while it is not. */
  revokedAt: Date | null;
  /** Why it was revoked (`logout`, `reused`, `subject_revoked`, …), or `null`. */
  revokeReason: string | null;
  /** The client context recorded at issue (binding and devices list), or `null`. */
  client: ClientContext | null;
  /**
   * A digest of the client fields the binding policy compares exactly, set by core at issue, or
   * `null` when the policy compares none. Opaque to stores: {@link TokenStore.rotateLive}
   * compares it for equality only, so a store enforces the binding without knowing its rules.
   */
  bindingKey: string | null;
  /** App claims copied into every access token of the session, or `null`. */
  claims: Record<string, unknown> | null;
}

/**
 * One refresh token ever issued, by hash. Rows are immutable and exist so that any token of a
 * family — live or spent — leads back to its session (spent ones for reuse detection).
 */
export interface TokenRecord {
  /** The token's hash (never the token). Unique. */
  hash: string;
  /** The session (family) it belongs to. */
  sessionId: string;
  /** Its generation within the session. */
  generation: number;
  /** When it was issued. */
  createdAt: Date;
}

/** The compare-and-set that spends the live token and installs its successor. */
export interface Rotation {
  /** The session to rotate. */
  sessionId: string;
  /** The hash the session's `currentHash` must still equal (the presented token). */
  expectedHash: string;
  /** The successor's token row (`generation` = the session's generation + 1). */
  successor: TokenRecord;
  /** The successor's secret sealed under the presented token's secret. */
  sealedSuccessor: string;
  /** The instant of the rotation: becomes `rotatedAt` and `lastUsedAt`. */
  rotatedAt: Date;
  /** The new `idleExpiresAt`. */
  idleExpiresAt: Date;
}

/**
 * The one-step rotation of the live token, found by its hash: {@link TokenStore.rotateLive}.
 * Carries everything core would check against the session, so the store can refuse in the same
 * statement that rotates.
 */
export interface LiveRotation {
  /** The presented token's hash: the session's `currentHash` must equal it. */
  expectedHash: string;
  /** The successor token's hash: becomes `currentHash` and a new token row. */
  successorHash: string;
  /** The successor's secret sealed under the presented token's secret. */
  sealedSuccessor: string;
  /**
   * The instant of the rotation: the session must be live at it (`expiresAt` and
   * `idleExpiresAt` after it); it becomes `rotatedAt`, `lastUsedAt` and the successor's
   * `createdAt`.
   */
  rotatedAt: Date;
  /** The new idle deadline before capping: the store sets min(this, the session's `expiresAt`). */
  idleExpiresAt: Date;
  /** When given, the session's `clientId` must equal it. */
  clientId?: string;
  /** The session's `bindingKey` must equal it (`null` equals `null` only). */
  bindingKey: string | null;
}

/** A token row together with its session. */
export interface TokenWithSession {
  token: TokenRecord;
  session: SessionRecord;
}

/**
 * The storage contract. Small on purpose: every rule lives in core; a store only keeps rows
 * and provides one atomic compare-and-set.
 *
 * Failures: a store throws {@link StoreUnavailableError} when the database cannot be reached or
 * fails mid-operation (wrap the driver error as `cause`). Every method is all-or-nothing: after a
 * failure the rows are as before the call or as after it, never in between. Dates go in and come
 * out as `Date`; stores may round to milliseconds.
 *
 * Run `runStoreConformance` from `@tokens/core/testing` to prove an implementation.
 *
 * @example
 * ```ts
 * import type { TokenStore } from "@tokens/core";
 *
 * export function myStore(db: Db): TokenStore {
 *   return {
 *     createSession: (session, token) => db.tx(...),
 *     findToken: (hash) => db.query(...),
 *     rotate: (rotation) => db.update(...),
 *     rotateLive: (rotation) => db.update(...), // optional
 *     // ...
 *   };
 * }
 * ```
 */
export interface TokenStore {
  /**
   * Persist a new session together with its first token (generation 0), atomically: either
   * both rows exist afterwards or neither does.
   */
  createSession(session: SessionRecord, token: TokenRecord): Promise<void>;

  /**
   * Look up a token by hash and return it with its session, or `null` if no token has that hash
   * (or its session has been purged). Returns revoked and expired sessions too: core decides.
   */
  findToken(hash: string): Promise<TokenWithSession | null>;

  /**
   * The atomic heart of the contract. If and only if the session exists, is not revoked and its
   * `currentHash` equals `rotation.expectedHash`, in one atomic step: store the successor token
   * row and set on the session `generation += 1`, `previousHash = expectedHash`,
   * `currentHash = successor.hash`, `sealedSuccessor`, `rotatedAt`, `lastUsedAt = rotatedAt` and
   * `idleExpiresAt`; then resolve `true`. Otherwise change nothing and resolve `false`.
   *
   * Of any number of concurrent calls with the same `expectedHash` — from one process or many,
   * through any number of connections — **exactly one** resolves `true`. A successor row left
   * behind by a call that resolved `false` is allowed only if no session ever names it.
   */
  rotate(rotation: Rotation): Promise<boolean>;

  /**
   * Optional: the common refresh in one round trip. If and only if a session exists whose
   * `currentHash` equals `rotation.expectedHash`, that is not revoked, whose `expiresAt` and
   * `idleExpiresAt` are both after `rotation.rotatedAt`, whose `clientId` equals
   * `rotation.clientId` when that is given and whose `bindingKey` equals `rotation.bindingKey`
   * (`null` equals `null`), then in one atomic step do exactly what {@link TokenStore.rotate}
   * does — store the successor token row (`hash = successorHash`, the session's id,
   * `generation` = the session's generation + 1, `createdAt = rotatedAt`) and set on the session
   * `generation += 1`, `previousHash = expectedHash`, `currentHash = successorHash`,
   * `sealedSuccessor`, `rotatedAt`, `lastUsedAt = rotatedAt` and
   * `idleExpiresAt = min(rotation.idleExpiresAt, expiresAt)` — and resolve the session as it is
   * after the rotation. Otherwise change nothing and resolve `null`.
   *
   * Of any number of concurrent `rotateLive` and `rotate` calls for the same expected hash —
   * from one process or many, through any number of connections — **exactly one** succeeds.
   * As for `rotate`, a successor row left behind by a call that resolved `null` is allowed only
   * if no session ever names it.
   *
   * Core calls it first on every refresh (unless the binding policy compares IP addresses) and
   * falls back to `findToken` + `rotate` whenever it resolves `null`, so refusals keep their
   * exact reasons; a store without it simply always takes that path.
   */
  rotateLive?(rotation: LiveRotation): Promise<SessionRecord | null>;

  /** Return the session with this id, or `null`. */
  getSession(id: string): Promise<SessionRecord | null>;

  /**
   * Return the subject's sessions that are not revoked and whose `idleExpiresAt` and
   * `expiresAt` are both after `now`, oldest `createdAt` first.
   */
  listSessions(subject: string, now: Date): Promise<SessionRecord[]>;

  /**
   * Mark the session revoked (`revokedAt = at`, `revokeReason = reason`) unless it already is.
   * Resolve `true` if this call revoked it, `false` if it was already revoked or does not exist.
   * A revocation and a concurrent `rotate` are ordered: once this resolves, no `rotate` of the
   * session can resolve `true`.
   */
  revokeSession(id: string, at: Date, reason: string): Promise<boolean>;

  /**
   * Revoke every not-yet-revoked session of the subject, as `revokeSession` does, and resolve
   * how many were revoked. Other subjects' sessions are untouched.
   */
  revokeSubject(subject: string, at: Date, reason: string): Promise<number>;

  /**
   * Delete up to `limit` sessions that ended before `before` — revoked before it, or with
   * `idleExpiresAt` or `expiresAt` before it — together with all their token rows, and resolve
   * the number of sessions deleted. Sessions that end later, and their tokens, stay. Called in
   * a loop by core until it returns less than `limit`, so each call should be short.
   */
  purge(before: Date, limit: number): Promise<number>;
}
