import {
  InvalidRequestError,
  type SessionRecord,
  StoreUnavailableError,
  type TokenStore,
} from "@tokens/core";
import { type MongoStoreOptions, openCollections } from "./collections.js";
import {
  fromSessionDocument,
  fromTokenDocument,
  hasNulFieldName,
  readExpiresAt,
  type SessionDocument,
  sessionEnd,
  type TokenDocument,
  toSessionDocument,
  toTokenDocument,
} from "./documents.js";
import { guard, isDuplicateKey } from "./errors.js";

/**
 * A {@link TokenStore} on the official `mongodb` driver (v6 or v7), for a standalone server, a
 * replica set or a sharded cluster. No multi-document transactions are used: the one atomic
 * step the contract needs — the rotation compare-and-set — is a single-document update.
 *
 * It does not implement the optional `rotateLive`: rotating and inserting the successor's token
 * in one atomic step would need a multi-document transaction. Core then refreshes with
 * `findToken` followed by `rotate`, as it does for any store without it.
 *
 * Run {@link ensureIndexes} once (at deploy or start-up) before serving traffic: the unique
 * index on `currentHash` and the lookups by `sessionId` and `subject` depend on it.
 *
 * Ids that are not strings (say, an object from a parsed JSON body) never reach a query: they
 * are answered as "no such session" (`null`, `false`, `0`, `[]`).
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
  const { sessions, tokens } = openCollections(options);

  /**
   * Inserts a token document. A duplicate `_id` is accepted only if it is this very token (same
   * session and generation: a retried call); a different token with the same hash would send its
   * holder to the wrong session, so it is refused.
   */
  async function insertToken(doc: TokenDocument): Promise<void> {
    try {
      await tokens.insertOne(doc);
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      const existing = await tokens.findOne({ _id: doc._id });
      if (existing?.sessionId === doc.sessionId && existing.generation === doc.generation) return;
      throw new StoreUnavailableError("MongoDB: a different token with this hash already exists", {
        cause: error,
      });
    }
  }

  return {
    createSession: (session, token) =>
      guard("createSession", async () => {
        if (hasNulFieldName(session.claims)) {
          throw new InvalidRequestError("malformed", "claim names cannot contain NUL in MongoDB");
        }
        // No transaction: the token goes in first. Until the session document exists,
        // `findToken` answers null for that token, and if the session insert fails the caller
        // gets an error instead of the token's secret — so a stray token document is unreachable
        // (and deleted by the TTL index). The other order could leave a session that
        // `listSessions` shows and the session cap counts, but no token can ever refresh.
        await insertToken(toTokenDocument(token, session.expiresAt));
        try {
          await sessions.insertOne(toSessionDocument(session));
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
          const existing = await sessions.findOne<Pick<SessionDocument, "currentHash">>(
            { _id: session.id },
            { projection: { currentHash: 1 } },
          );
          // The same session (it names the same 256-bit token hash): a retried call, done.
          if (existing?.currentHash === session.currentHash) return;
          // Another session has this id, or names this hash (the unique currentHash index).
          throw new StoreUnavailableError(
            "MongoDB: another session already has this id or live token hash",
            { cause: error },
          );
        }
      }),

    findToken: (hash) =>
      guard("findToken", async () => {
        if (typeof hash !== "string") return null;
        const tokenDoc = await tokens.findOne({ _id: hash });
        if (!tokenDoc) return null;
        // Validated before use: the session id goes into the next query.
        const token = fromTokenDocument(tokenDoc);
        const sessionDoc = await sessions.findOne({ _id: token.sessionId });
        // No session: purged, or its createSession failed after the token insert.
        if (!sessionDoc) return null;
        return { token, session: fromSessionDocument(sessionDoc) };
      }),

    rotate: (rotation) =>
      guard("rotate", async () => {
        const { sessionId, expectedHash, successor } = rotation;
        if (typeof sessionId !== "string" || typeof expectedHash !== "string") return false;

        // 1. Read: the successor document needs the session's absolute end (see TokenDocument).
        //    If the compare-and-set can no longer succeed, stop here without writing anything:
        //    `currentHash` never returns to a spent hash and `revokedAt` is never cleared, so a
        //    false condition stays false, and `false` now is what step 3 would answer.
        const current = await sessions.findOne<
          Pick<SessionDocument, "currentHash" | "revokedAt" | "expiresAt">
        >({ _id: sessionId }, { projection: { currentHash: 1, revokedAt: 1, expiresAt: 1 } });
        if (!current || current.revokedAt || current.currentHash !== expectedHash) return false;
        const expiresAt = readExpiresAt(current);

        // 2. The successor token, before any session names it. If step 3 loses (or fails), it
        //    is an orphan no session names, whose secret was never returned: the contract
        //    allows it, and `purge` and the TTL index delete it with the session's tokens.
        await insertToken(toTokenDocument(successor, expiresAt));

        // 3. The compare-and-set: one single-document update, atomic on every deployment.
        //    Of concurrent callers with the same expectedHash the server applies exactly one;
        //    for the others `currentHash` has moved on and the filter matches nothing.
        const result = await sessions.updateOne(
          { _id: sessionId, currentHash: expectedHash, revokedAt: null },
          {
            $set: {
              currentHash: successor.hash,
              previousHash: expectedHash,
              sealedSuccessor: rotation.sealedSuccessor,
              rotatedAt: rotation.rotatedAt,
              lastUsedAt: rotation.rotatedAt,
              idleExpiresAt: rotation.idleExpiresAt,
              endsAt: sessionEnd({
                idleExpiresAt: rotation.idleExpiresAt,
                expiresAt,
                revokedAt: null,
              }),
            },
            $inc: { generation: 1 },
          },
        );
        return result.modifiedCount === 1;
      }),

    getSession: (id) =>
      guard("getSession", async () => {
        if (typeof id !== "string") return null;
        const doc = await sessions.findOne({ _id: id });
        return doc ? fromSessionDocument(doc) : null;
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
        // `$min` moves `endsAt` back to `at` unless the session had already ended.
        const result = await sessions.updateOne(
          { _id: id, revokedAt: null },
          { $set: { revokedAt: at, revokeReason: reason }, $min: { endsAt: at } },
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
          { $set: { revokedAt: at, revokeReason: reason }, $min: { endsAt: at } },
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
        const ended = await sessions
          .find({ endsAt: { $lt: before } }, { projection: { _id: 1 }, limit })
          .toArray();
        if (ended.length === 0) return 0;
        const ids = ended.map((doc) => doc._id);
        // Tokens first. If the second delete fails, the sessions are still there and the next
        // purge selects them again; the other order could strand tokens that no purge selects.
        // In between, a token of these (ended) sessions finds nothing: `findToken` → null.
        await tokens.deleteMany({ sessionId: { $in: ids } });
        const result = await sessions.deleteMany({ _id: { $in: ids } });
        return result.deletedCount;
      });
    },
  };
}
