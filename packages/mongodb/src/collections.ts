import { ConfigurationError } from "@tokens/core";
import type { Collection, CollectionOptions, Db } from "mongodb";
import type { SessionDocument } from "./documents.js";

/**
 * Where the store keeps its data: one collection, one document per session.
 *
 * @example
 * ```ts
 * import { MongoClient } from "mongodb";
 * import { mongoStore, type MongoStoreOptions } from "@tokens/mongodb";
 *
 * const client = new MongoClient(process.env.MONGODB_URL!);
 * const options: MongoStoreOptions = {
 *   db: client.db("auth"),
 *   collections: { sessions: "sessions" },
 * };
 * const store = mongoStore(options);
 * ```
 */
export interface MongoStoreOptions {
  /** The database, e.g. `client.db("auth")`. Its client may be connected or not yet. */
  db: Db;
  /** Collection names. Default: `tokens_sessions`. */
  collections?: {
    /** One document per session, `_id` = session id. */
    sessions?: string;
  };
}

/** The collection name used when {@link MongoStoreOptions.collections} names none. */
const DEFAULT_SESSIONS = "tokens_sessions";

/**
 * Fixed per-collection settings, whatever the `Db` was configured with:
 * - reads from the primary: a secondary may lag behind the last rotation, and a stale session
 *   document would make a fresh token look spent (a false reuse alarm);
 * - `ignoreUndefined`: an `undefined` field is left out, as JSON does, instead of becoming `null`;
 * - plain JS values back (no `Int32`/`Long` wrappers, no raw buffers), which the mapping expects.
 */
const COLLECTION_OPTIONS: CollectionOptions = {
  readPreference: "primary",
  ignoreUndefined: true,
  promoteValues: true,
  promoteLongs: true,
  useBigInt64: false,
  raw: false,
};

/**
 * Checks the options and opens the sessions collection with {@link COLLECTION_OPTIONS}. Throws
 * `ConfigurationError` (at set-up, never per request) for a missing `Db`, a bad collection name,
 * a `collections.tokens` left from the two-collection version, or unacknowledged writes.
 */
export function openSessions(options: MongoStoreOptions): Collection<SessionDocument> {
  if (typeof options !== "object" || options === null) {
    throw new ConfigurationError("mongoStore: an options object with `db` is required");
  }
  const { db } = options;
  if (typeof db !== "object" || db === null || typeof db.collection !== "function") {
    throw new ConfigurationError("mongoStore: `db` must be a mongodb Db, e.g. client.db('auth')");
  }
  if (options.collections !== undefined && "tokens" in options.collections) {
    throw new ConfigurationError(
      "mongoStore: there is no tokens collection any more (one document per session); " +
        "remove collections.tokens and see the upgrade notes in the @tokens/mongodb README",
    );
  }
  const name = options.collections?.sessions ?? DEFAULT_SESSIONS;
  if (typeof name !== "string" || name.length === 0 || name.includes("$")) {
    throw new ConfigurationError(
      'mongoStore: collections.sessions must be a non-empty collection name without "$"',
    );
  }
  const sessions = db.collection<SessionDocument>(name, COLLECTION_OPTIONS);
  // Compare-and-set and revocation counts come from the write result, which an unacknowledged
  // write does not have: `rotate` could never tell it won.
  if (sessions.writeConcern?.w === 0) {
    throw new ConfigurationError("mongoStore: unacknowledged writes (w: 0) are not supported");
  }
  return sessions;
}
