import {
  InvalidRequestError,
  type Rotation,
  type SessionRecord,
  type TokenStore,
} from "@tokens/core";
import type { Filter, UpdateFilter } from "mongodb";
import { type MongoStoreOptions, openSessions } from "./collections.js";
import {
  fromSessionDocument,
  hasNulFieldName,
  readExpiresAt,
  type SessionDocument,
  toSessionDocument,
} from "./documents.js";
import { guard } from "./errors.js";

/**
 * A {@link TokenStore} on the official `mongodb` driver (v6 or v7), for a standalone server, a
 * replica set or a sharded cluster: one document per session in one collection, `_id` = the
 * session id. No multi-document transactions: every write is a single-document operation, and a
 * refresh is one conditional `findOneAndUpdate` by `_id`.
 *
 * Run {@link ensureIndexes} once (at deploy or start-up) before serving traffic, and
 * `tokens.purge()` on a schedule to delete ended sessions.
 *
 * Ids that are not strings (say, an object from a parsed JSON body) never reach a query: they
 * are answered as "no such session" (`null`, `false`, `0`, `[]`).
 *
 * Do not serve production refreshes from FerretDB 1.x with it: FerretDB evaluates a conditional
 * update outside an atomic step, so concurrent refreshes of one session can fork it (README →
 * Tested against).
 *
 * @example
 * ```ts
 * import { createTokens } from "@tokens/core";
 * import { ensureIndexes, mongoStore } from "@tokens/mongodb";
 * import { MongoClient } from "mongodb";
 *
 * const client = new MongoClient(process.env.MONGODB_URL!);
 * const db = client.db("auth");
 * await ensureIndexes({ db });
 *
 * const tokens = createTokens({
 *   issuer: "https://auth.example.com",
 *   audience: "api",
 *   keys: [signingKey],
 *   store: mongoStore({ db }),
 * });
 * ```
 */
export function mongoStore(options: MongoStoreOptions): TokenStore {
  const sessions = openSessions(options);

  /** One conditional write: the rotation's update if `filter` matches, the session after it. */
  async function rotateWhere(
    filter: Filter<SessionDocument>,
    rotation: Rotation,
    idleExpiresAt: Date,
    purgeAfter: Date,
  ): Promise<SessionRecord | null> {
    const update: UpdateFilter<SessionDocument> = {
      $set: {
        generation: rotation.generation,
        previousHash: rotation.expectedHash,
        currentHash: rotation.successorHash,
        sealedSuccessor: rotation.sealedSuccessor,
        rotatedAt: rotation.rotatedAt,
        lastUsedAt: rotation.rotatedAt,
        idleExpiresAt,
        purgeAfter,
      },
    };
    const after = await sessions.findOneAndUpdate(filter, update, { returnDocument: "after" });
    return after ? fromSessionDocument(after) : null;
  }

  return {
    createSession: (session) =>
      guard("createSession", async () => {
        if (hasNulFieldName(session.claims)) {
          throw new InvalidRequestError("malformed", "claim names cannot contain NUL in MongoDB");
        }
        // An existing `_id` is refused by the server (E11000), which `guard` reports.
        await sessions.insertOne(toSessionDocument(session));
      }),

    getSession: (id) =>
      guard("getSession", async () => {
        if (typeof id !== "string") return null;
        const doc = await sessions.findOne({ _id: id });
        return doc ? fromSessionDocument(doc) : null;
      }),

    rotate: (rotation) =>
      guard("rotate", async () => {
        const { sessionId, expectedHash, rotatedAt } = rotation;
        if (typeof sessionId !== "string" || typeof expectedHash !== "string") return null;
        const condition: Filter<SessionDocument> = {
          _id: sessionId,
          currentHash: expectedHash,
          revokedAt: null,
          idleExpiresAt: { $gt: rotatedAt },
          ...(rotation.clientId === undefined ? {} : { clientId: rotation.clientId }),
          // `null` matches `null` (and a missing field, which this store never writes).
          ...(rotation.bindingKey === undefined ? {} : { bindingKey: rotation.bindingKey }),
          // Unbound, or bound to the key the request proved. `null` also matches a missing
          // field: documents written before sessions could be bound are unbound.
          ...(rotation.dpopJkt === null
            ? { dpopJkt: null }
            : { $or: [{ dpopJkt: null }, { dpopJkt: rotation.dpopJkt }] }),
        };
        // The new deadlines are min(requested, expiresAt), and an update without a pipeline
        // (FerretDB has none) cannot read expiresAt. It never changes, though, so a filter on it
        // splits sessions into two fixed groups, each with a value it can write.
        const latest = later(rotation.idleExpiresAt, rotation.purgeAfter);
        // 1. The session ends no earlier than both requested values: they are the minimums.
        //    This is every refresh but those in the last idle period of a session's lifetime.
        const uncapped = await rotateWhere(
          { ...condition, expiresAt: { $gt: rotatedAt, $gte: latest } },
          rotation,
          rotation.idleExpiresAt,
          rotation.purgeAfter,
        );
        if (uncapped) return uncapped;
        // 2. Otherwise read expiresAt. If it is at or after `latest`, step 1's expiresAt clause
        //    held, so the rest of the condition failed: nothing to do. If not, the same
        //    compare-and-set with the capped values, pinned to the expiresAt they were computed
        //    from. Each step is one atomic write, and at most one of them can match a session
        //    with a given `currentHash`, so of concurrent calls still at most one wins.
        const current = await sessions.findOne(
          { _id: sessionId },
          { projection: { expiresAt: 1 } },
        );
        if (!current) return null;
        const expiresAt = readExpiresAt(current);
        if (expiresAt >= latest || expiresAt <= rotatedAt) return null;
        return rotateWhere(
          { ...condition, expiresAt },
          rotation,
          earlier(rotation.idleExpiresAt, expiresAt),
          earlier(rotation.purgeAfter, expiresAt),
        );
      }),

    listSessions: (subject, now) =>
      guard("listSessions", async (): Promise<SessionRecord[]> => {
        if (typeof subject !== "string") return [];
        const docs = await sessions
          .find({
            subject,
            revokedAt: null,
            idleExpiresAt: { $gt: now },
            expiresAt: { $gt: now },
          })
          .sort({ createdAt: 1, _id: 1 })
          .toArray();
        return docs.map(fromSessionDocument);
      }),

    revokeSession: (id, at, reason) =>
      guard("revokeSession", async () => {
        if (typeof id !== "string") return false;
        // `revokedAt: null` in the filter orders this with `rotate`: both are single-document
        // updates of the same document, and after this one no rotate filter matches.
        const result = await sessions.updateOne(
          { _id: id, revokedAt: null },
          revocation(at, reason),
        );
        return result.modifiedCount === 1;
      }),

    revokeSubject: (subject, at, reason) =>
      guard("revokeSubject", async () => {
        if (typeof subject !== "string") return 0;
        // Each session is revoked atomically (as revokeSession). The set is not: without a
        // transaction a failure part-way leaves some sessions revoked and the rest live, and
        // the call throws. Repeating it finishes the job; it never un-revokes anything.
        const result = await sessions.updateMany(
          { subject, revokedAt: null },
          revocation(at, reason),
        );
        return result.modifiedCount;
      }),

    purge: (before, limit) => {
      // `limit: 0` means "no limit" to MongoDB: never let a bad value turn into a full sweep.
      if (!Number.isSafeInteger(limit) || limit < 1) {
        return Promise.reject(
          new InvalidRequestError("malformed", "purge limit must be a positive integer"),
        );
      }
      if (!(before instanceof Date) || Number.isNaN(before.getTime())) {
        return Promise.reject(new InvalidRequestError("malformed", "purge before must be a Date"));
      }
      return guard("purge", async () => {
        // Found through the purgeAfter index; the exact end is checked on those documents, and
        // again by the delete, so a session that is live at the delete stays.
        const ended: Filter<SessionDocument> = {
          purgeAfter: { $lt: before },
          $or: [
            { revokedAt: { $lt: before } },
            { idleExpiresAt: { $lt: before } },
            { expiresAt: { $lt: before } },
          ],
        };
        const found = await sessions.find(ended, { projection: { _id: 1 }, limit }).toArray();
        if (found.length === 0) return 0;
        const ids = found.map((doc) => doc._id);
        const result = await sessions.deleteMany({ ...ended, _id: { $in: ids } });
        return result.deletedCount;
      });
    },
  };
}

/** The update that revokes a session; `$min` moves `purgeAfter` back to `at`, never forward. */
function revocation(at: Date, reason: string): UpdateFilter<SessionDocument> {
  return { $set: { revokedAt: at, revokeReason: reason }, $min: { purgeAfter: at } };
}

function earlier(a: Date, b: Date): Date {
  return a.getTime() <= b.getTime() ? a : b;
}

function later(a: Date, b: Date): Date {
  return a.getTime() >= b.getTime() ? a : b;
}
