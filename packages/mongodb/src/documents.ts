import {
  type ClientContext,
  type SessionRecord,
  StoreUnavailableError,
  sessionFields,
} from "@tokens/core";

/**
 * A session as stored: the {@link SessionRecord} with `_id` in place of `id`, and nothing else.
 * Dates are BSON dates, `_id` is the session id as a plain string, so
 * `db.tokens_sessions.find({ subject: "user_42" })` in `mongosh` reads naturally.
 *
 * @example
 * ```ts
 * import type { SessionDocument } from "@tokens/mongodb";
 *
 * // Sessions revoked because a refresh token was replayed, newest first (an admin query).
 * const reused = await db
 *   .collection<SessionDocument>("tokens_sessions")
 *   .find({ revokeReason: "reused" })
 *   .sort({ revokedAt: -1 })
 *   .toArray();
 * ```
 */
export interface SessionDocument extends Omit<SessionRecord, "id"> {
  /** The session id. */
  _id: string;
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
  return { _id: id, ...fields };
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
const orMissing =
  <T>(check: Check<T>): Check<T | undefined> =>
  (value): value is T | undefined =>
    value === undefined || check(value);

/**
 * Reads one field, or throws: a document this store did not write (edited by hand, written by
 * another program or an older version) must surface as a typed store failure, not as a crash
 * deep in the token flow.
 */
function read<T>(doc: Record<string, unknown>, key: string, check: Check<T>): T {
  const value = doc[key];
  if (!check(value)) {
    throw new StoreUnavailableError(
      `MongoDB session document ${JSON.stringify(String(doc._id))} has an invalid "${key}" field`,
    );
  }
  return value;
}

/** The session record a stored document describes. Throws `StoreUnavailableError` if malformed. */
export function fromSessionDocument(doc: Record<string, unknown>): SessionRecord {
  const field = <T>(key: string, check: Check<T>): T => read(doc, key, check);
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
    purgeAfter: field("purgeAfter", isDate),
    revokedAt: field("revokedAt", orNull(isDate)),
    revokeReason: field("revokeReason", orNull(isString)),
    client: field("client", orNull(isObject)) as ClientContext | null,
    bindingKey: field("bindingKey", orNull(isString)),
    claims: field("claims", orNull(isObject)),
    // Missing in documents written before sessions could be bound to a DPoP key: unbound.
    dpopJkt: field("dpopJkt", orMissing(orNull(isString))) ?? null,
  };
}

/** The one field `rotate` reads when the cap applies: the session's absolute end. */
export function readExpiresAt(doc: Record<string, unknown>): Date {
  return read(doc, "expiresAt", isDate);
}
