import { ConfigurationError } from "@tokens/core";
import type { Collection, CollectionOptions, Db } from "mongodb";
import type { SessionDocument, TokenDocument } from "./documents.js";

/**
 * Where the store keeps its data.
 *
 * @example
 * ```ts
 * import { MongoClient } from "mongodb";
 * import { mongoStore, type MongoStoreOptions } from "@tokens/mongodb";
 *
 * const client = new MongoClient(process.env.MONGODB_URL!);
 * const options: MongoStoreOptions = {
 *   db: client.db("auth"),
 *   collections: { sessions: "sessions", tokens: "refresh_tokens" },
 * };
 * const store = mongoStore(options);
 * ```
 */
export interface MongoStoreOptions {
  /** The database, e.g. `client.db("auth")`. Its client may be connected or not yet. */
  db: Db;
  /** Collection names. Defaults: `token_sessions` and `refresh_tokens`. */
  collections?: {
    /** One document per session (token family), `_id` = session id. */
    sessions?: string;
    /** One document per refresh token ever issued, `_id` = token hash. */
    tokens?: string;
  };
}

/** The collection names used when {@link MongoStoreOptions.collections} names none. */
const DEFAULT_COLLECTIONS = {
  sessions: "token_sessions",
  tokens: "refresh_tokens",
} as const;

/**
 * Fixed per-collection settings, whatever the `Db` was configured with:
 * - reads from the primary: a secondary may lag behind the last rotation, and a stale session
 *   document would make a fresh token look spent (a false reuse alarm) or unknown;
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

/** The two collections, configured, after checking the options. */
export interface StoreCollections {
  db: Db;
  sessions: Collection<SessionDocument>;
  tokens: Collection<TokenDocument>;
}

/**
 * Checks the options and opens the two collections with {@link COLLECTION_OPTIONS}. Throws
 * `ConfigurationError` (at set-up, never per request) for a missing `Db`, bad or equal
 * collection names, or unacknowledged writes.
 */
export function openCollections(options: MongoStoreOptions): StoreCollections {
  if (typeof options !== "object" || options === null) {
    throw new ConfigurationError("mongoStore: an options object with `db` is required");
  }
  const { db } = options;
  if (typeof db !== "object" || db === null || typeof db.collection !== "function") {
    throw new ConfigurationError("mongoStore: `db` must be a mongodb Db, e.g. client.db('auth')");
  }
  const names = { ...DEFAULT_COLLECTIONS, ...options.collections };
  for (const [kind, name] of Object.entries(names)) {
    if (typeof name !== "string" || name.length === 0 || name.includes("$")) {
      throw new ConfigurationError(
        `mongoStore: collections.${kind} must be a non-empty collection name without "$"`,
      );
    }
  }
  if (names.sessions === names.tokens) {
    throw new ConfigurationError("mongoStore: sessions and tokens need two different collections");
  }
  const sessions = db.collection<SessionDocument>(names.sessions, COLLECTION_OPTIONS);
  const tokens = db.collection<TokenDocument>(names.tokens, COLLECTION_OPTIONS);
  // Compare-and-set and revocation counts come from the write result, which an unacknowledged
  // write does not have: `rotate` could never tell it won.
  if (sessions.writeConcern?.w === 0 || tokens.writeConcern?.w === 0) {
    throw new ConfigurationError("mongoStore: unacknowledged writes (w: 0) are not supported");
  }
  return { db, sessions, tokens };
}
