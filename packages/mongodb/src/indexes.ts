import { ConfigurationError } from "@tokens/core";
import { type MongoStoreOptions, openSessions } from "./collections.js";
import { guard } from "./errors.js";

/**
 * Creates the indexes the store relies on (idempotent; run it at deploy or start-up):
 *
 * | keys                            | for                                                |
 * | ------------------------------- | -------------------------------------------------- |
 * | `_id` (the session id)          | `rotate`, `getSession`, `revokeSession`            |
 * | `subject, revokedAt, createdAt` | `listSessions` (oldest first), `revokeSubject`     |
 * | `purgeAfter`                    | `purge`                                            |
 *
 * A refresh changes none of these keys (`purgeAfter` once per granule at most), so it costs no
 * index write. There is no TTL index: `purgeAfter` is a lower bound of a session's end, not the
 * end, so a TTL on it could delete a live session; delete ended sessions with `tokens.purge()`
 * on a schedule.
 *
 * Failures: `StoreUnavailableError` if MongoDB cannot be reached; `ConfigurationError` for bad
 * options, including a `ttl` left from an earlier version.
 *
 * @example
 * ```ts
 * import { ensureIndexes } from "@tokens/mongodb";
 * import { MongoClient } from "mongodb";
 *
 * const client = new MongoClient(process.env.MONGODB_URL!);
 * await ensureIndexes({ db: client.db("auth") });
 * ```
 */
export async function ensureIndexes(options: MongoStoreOptions): Promise<void> {
  const sessions = openSessions(options);
  if ("ttl" in options) {
    throw new ConfigurationError(
      "ensureIndexes: the ttl option is gone (no TTL index can tell a live session from an " +
        "ended one without costing every refresh an index write); delete ended sessions with " +
        "tokens.purge() on a schedule",
    );
  }
  await guard("ensureIndexes", async () => {
    // One index per command: FerretDB 1.x drops the connection when one `createIndexes` names
    // two or more indexes that all exist already, i.e. on every repeated run.
    await sessions.createIndex({ subject: 1, revokedAt: 1, createdAt: 1 });
    await sessions.createIndex({ purgeAfter: 1 });
  });
}
