import {
  type ClientContext,
  type SessionRecord,
  StoreUnavailableError,
  sessionFields,
  type TokenRecord,
} from "@tokens/core";

/**
 * A session as stored in the sessions collection: the {@link SessionRecord} with `_id` in place
 * of `id`, plus `endsAt`. Dates are BSON dates, `_id` is the session id as a plain string, so
 * `db.token_sessions.find({ subject: "user_42" })` in `mongosh` reads naturally.
 *
 * @example
 * ```ts
 * import type { SessionDocument } from "@tokens/mongodb";
 *
 * // Sessions revoked because a refresh token was replayed, newest first (an admin query).
 * const reused = await db
 *   .collection<SessionDocument>("token_sessions")
 *   .find({ revokeReason: "reused" })
 *   .sort({ revokedAt: -1 })
 *   .toArray();
 * ```
 */
export interface SessionDocument extends Omit<SessionRecord, "id"> {
  /** The session id. */
  _id: string;
  /**
   * When the session ended, or ends unless it is rotated first:
   * `min(idleExpiresAt, expiresAt, revokedAt)`. Every write keeps it current. `purge` selects on
   * it and the TTL index deletes the document `ttl` seconds after it.
   */
  endsAt: Date;
}

/**
 * A refresh token as stored in the tokens collection: `_id` is the token's hash. Documents are
 * insert-only.
 *
 * @example
 * ```ts
 * import type { TokenDocument } from "@tokens/mongodb";
 *
 * // Every token a session ever had, oldest first.
 * const family = await db
 *   .collection<TokenDocument>("refresh_tokens")
 *   .find({ sessionId })
 *   .sort({ generation: 1 })
 *   .toArray();
 * ```
 */
export interface TokenDocument {
  /** The token's hash (never the token). */
  _id: string;
  sessionId: string;
  generation: number;
  createdAt: Date;
  /**
   * The absolute end (`expiresAt`) of the token's session, fixed at insert. No session outlives
   * it, so the TTL index, which deletes the document `ttl` seconds after it, never removes a
   * token while its session document still exists.
   */
  sessionExpiresAt: Date;
}

/** `min(idleExpiresAt, expiresAt, revokedAt)`: the instant the session ends (or ended). */
export function sessionEnd(
  session: Pick<SessionRecord, "idleExpiresAt" | "expiresAt" | "revokedAt">,
): Date {
  const ends = [session.idleExpiresAt.getTime(), session.expiresAt.getTime()];
  if (session.revokedAt) ends.push(session.revokedAt.getTime());
  return new Date(Math.min(...ends));
}

/**
 * Whether a field name anywhere in `value` contains NUL: BSON stores names as C strings, so
 * MongoDB cannot store such a document (JSON and JWTs can carry one).
 */
export function hasNulFieldName(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (Array.isArray(value)) return value.some(hasNulFieldName);
  return Object.entries(value).some(
    ([name, inner]) => name.includes("\0") || hasNulFieldName(inner),
  );
}

/** The document to insert for a new session: the contract's fields only, so nothing extra is stored. */
export function toSessionDocument(session: SessionRecord): SessionDocument {
  // `sessionFields` turns absent optionals into `null`: with `ignoreUndefined` they would be
  // dropped and read back as missing, while the record's contract is `null`.
  const { id, ...fields } = sessionFields(session);
  return { _id: id, ...fields, endsAt: sessionEnd(session) };
}

/** The document to insert for a token of a session whose absolute end is `sessionExpiresAt`. */
export function toTokenDocument(token: TokenRecord, sessionExpiresAt: Date): TokenDocument {
  return {
    _id: token.hash,
    sessionId: token.sessionId,
    generation: token.generation,
    createdAt: token.createdAt,
    sessionExpiresAt,
  };
}

type Check<T> = (value: unknown) => value is T;

const isString: Check<string> = (value): value is string => typeof value === "string";
const isInteger: Check<number> = (value): value is number => Number.isSafeInteger(value);
const isDate: Check<Date> = (value): value is Date =>
  value instanceof Date && !Number.isNaN(value.getTime());
const isObject: Check<Record<string, unknown>> = (value): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const orNull =
  <T>(check: Check<T>): Check<T | null> =>
  (value): value is T | null =>
    value === null || check(value);

/**
 * Reads one field, or throws: a document this store did not write (edited by hand, written by
 * another program) must surface as a typed store failure, not as a crash deep in the token flow.
 */
function read<T>(doc: Record<string, unknown>, name: string, key: string, check: Check<T>): T {
  const value = doc[key];
  if (!check(value)) {
    throw new StoreUnavailableError(
      `MongoDB ${name} document ${JSON.stringify(String(doc._id))} has an invalid "${key}" field`,
    );
  }
  return value;
}

/** The session record a stored document describes. Throws `StoreUnavailableError` if malformed. */
export function fromSessionDocument(doc: Record<string, unknown>): SessionRecord {
  const field = <T>(key: string, check: Check<T>): T => read(doc, "session", key, check);
  return {
    id: field("_id", isString),
    subject: field("subject", isString),
    clientId: field("clientId", isString),
    generation: field("generation", isInteger),
    currentHash: field("currentHash", isString),
    previousHash: field("previousHash", orNull(isString)),
    sealedSuccessor: field("sealedSuccessor", orNull(isString)),
    rotatedAt: field("rotatedAt", orNull(isDate)),
    createdAt: field("createdAt", isDate),
    lastUsedAt: field("lastUsedAt", isDate),
    idleExpiresAt: field("idleExpiresAt", isDate),
    expiresAt: field("expiresAt", isDate),
    revokedAt: field("revokedAt", orNull(isDate)),
    revokeReason: field("revokeReason", orNull(isString)),
    client: field("client", orNull(isObject)) as ClientContext | null,
    // Documents written before the field existed have none: no binding key, like `null`.
    bindingKey: doc.bindingKey === undefined ? null : field("bindingKey", orNull(isString)),
    claims: field("claims", orNull(isObject)),
  };
}

/** The token record a stored document describes. Throws `StoreUnavailableError` if malformed. */
export function fromTokenDocument(doc: Record<string, unknown>): TokenRecord {
  const field = <T>(key: string, check: Check<T>): T => read(doc, "token", key, check);
  return {
    hash: field("_id", isString),
    sessionId: field("sessionId", isString),
    generation: field("generation", isInteger),
    createdAt: field("createdAt", isDate),
  };
}

/** The one field `rotate` needs besides the compare-and-set: the session's absolute end. */
export function readExpiresAt(doc: Record<string, unknown>): Date {
  return read(doc, "session", "expiresAt", isDate);
}
