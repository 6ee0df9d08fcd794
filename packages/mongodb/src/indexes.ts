import { ConfigurationError } from "@tokens/core";
import type { Collection, Db, Document } from "mongodb";
import { type MongoStoreOptions, openCollections } from "./collections.js";
import { guard, serverCode } from "./errors.js";

/** MongoDB's `IndexOptionsConflict`: an index on these keys exists with other options. */
const INDEX_OPTIONS_CONFLICT = 85;
/** `NotImplemented`: FerretDB 1.x's answer to `expireAfterSeconds` (it has no TTL indexes). */
const NOT_IMPLEMENTED = 238;
/** The largest `expireAfterSeconds` MongoDB accepts (a 32-bit signed integer). */
const MAX_TTL = 2_147_483_647;
/** One day, the same as core's default `purgeRetention`. */
const DEFAULT_TTL = 86_400;

/**
 * Options of {@link ensureIndexes}: where the collections are, and the TTL.
 *
 * @example
 * ```ts
 * import type { EnsureIndexesOptions } from "@tokens/mongodb";
 *
 * const options: EnsureIndexesOptions = { db, ttl: 7 * 86_400 }; // keep ended sessions a week
 * ```
 */
export interface EnsureIndexesOptions extends MongoStoreOptions {
  /**
   * Seconds after a session ends (idle timeout, absolute lifetime or revocation) before MongoDB's
   * TTL monitor deletes it, and seconds after its absolute lifetime before its tokens go. Set it
   * like core's `purgeRetention`. Default 86 400 (one day). `false`: no TTL, ended sessions stay
   * until `tokens.purge()` deletes them.
   *
   * Changing the number later is applied in place (`collMod`). Going from a number to `false`
   * needs the TTL indexes `endsAt_1` and `sessionExpiresAt_1` dropped first.
   */
  ttl?: number | false;
}

/**
 * Creates the indexes the store relies on (idempotent; run it at deploy or start-up):
 *
 * | collection | keys                                       | for                                       |
 * | ---------- | ------------------------------------------ | ----------------------------------------- |
 * | tokens     | `_id` (the token hash, unique by nature)   | `findToken`                               |
 * | tokens     | `sessionId`                                | `purge` deletes a session's tokens        |
 * | tokens     | `sessionExpiresAt`, TTL                    | automatic cleanup                         |
 * | sessions   | `_id` (the session id)                     | `rotate`, `getSession`, `revokeSession`   |
 * | sessions   | `subject, revokedAt, createdAt`            | `listSessions`, `revokeSubject`           |
 * | sessions   | `currentHash`, unique                      | no two sessions can name the same token   |
 * | sessions   | `endsAt`, TTL                              | `purge`, automatic cleanup                |
 *
 * Failures: `StoreUnavailableError` if MongoDB cannot be reached; `ConfigurationError` for a bad
 * `ttl`, when turning TTL off while TTL indexes exist, or for a `ttl` on a server without TTL
 * indexes (FerretDB 1.x: use `ttl: false` and `tokens.purge()`).
 *
 * @example
 * ```ts
 * import { ensureIndexes } from "@tokens/mongodb";
 * import { MongoClient } from "mongodb";
 *
 * const client = new MongoClient(process.env.MONGODB_URL!);
 * await ensureIndexes({ db: client.db("auth"), ttl: 86_400 });
 * ```
 */
export async function ensureIndexes(options: EnsureIndexesOptions): Promise<void> {
  const { db, sessions, tokens } = openCollections(options);
  const ttl = options.ttl === undefined ? DEFAULT_TTL : options.ttl;
  if (ttl !== false && !(Number.isInteger(ttl) && ttl >= 0 && ttl <= MAX_TTL)) {
    throw new ConfigurationError(`ensureIndexes: ttl must be false or an integer 0…${MAX_TTL}`);
  }
  await guard("ensureIndexes", async () => {
    // One index per command: FerretDB 1.x drops the connection when one `createIndexes` names
    // two or more indexes that all exist already, i.e. on every repeated run.
    await sessions.createIndex({ subject: 1, revokedAt: 1, createdAt: 1 });
    await sessions.createIndex({ currentHash: 1 }, { unique: true });
    await tokens.createIndex({ sessionId: 1 });
    await expiryIndex(db, sessions, "endsAt", ttl);
    await expiryIndex(db, tokens, "sessionExpiresAt", ttl);
  });
}

/**
 * An ascending index on a date field, with `expireAfterSeconds` unless `ttl` is false. The
 * index serves queries either way; only the TTL part changes between deployments.
 */
async function expiryIndex<T extends Document>(
  db: Db,
  collection: Collection<T>,
  field: string,
  ttl: number | false,
): Promise<void> {
  const key = { [field]: 1 } as const;
  try {
    await collection.createIndex(key, ttl === false ? {} : { expireAfterSeconds: ttl });
  } catch (error) {
    if (ttl !== false && serverCode(error) === NOT_IMPLEMENTED) {
      throw new ConfigurationError(
        `ensureIndexes: this server has no TTL indexes (FerretDB answers NotImplemented); ` +
          `pass ttl: false and delete ended sessions with tokens.purge() on a schedule`,
      );
    }
    if (serverCode(error) !== INDEX_OPTIONS_CONFLICT) throw error;
    if (ttl === false) {
      throw new ConfigurationError(
        `ensureIndexes: ${collection.collectionName} has a TTL index on ${field}; ` +
          `drop it (db.${collection.collectionName}.dropIndex("${field}_1")) to turn TTL off`,
      );
    }
    // The index exists with another expireAfterSeconds, or without one (MongoDB 5.1+ turns a
    // single-field index into a TTL index in place): change it rather than drop and rebuild.
    await db.command({
      collMod: collection.collectionName,
      index: { keyPattern: key, expireAfterSeconds: ttl },
    });
  }
}
