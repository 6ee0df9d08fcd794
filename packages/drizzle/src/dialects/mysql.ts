import { and, eq, inArray } from "drizzle-orm";
import type {
  MySqlDatabase,
  MySqlQueryResultHKT,
  PreparedQueryHKTBase,
} from "drizzle-orm/mysql-core";
import type { MySqlTokensTables } from "../schema/mysql.js";
import {
  type DialectOps,
  endedBefore,
  liveRotationChanges,
  liveRotationTarget,
  liveSuccessorSelection,
  type Queries,
  rotatedSession,
  rotationChanges,
  rotationTarget,
  sessionNaming,
  sessionRow,
  type Tables,
  tokenRow,
} from "../shared.js";

/**
 * A Drizzle MySQL or MariaDB database (mysql2), whatever its schema.
 *
 * @example
 * ```ts
 * import type { AnyMySqlDatabase } from "@tokens/drizzle";
 * import { drizzle } from "drizzle-orm/mysql2";
 *
 * const db: AnyMySqlDatabase = drizzle(process.env.DATABASE_URL!);
 * ```
 */
export type AnyMySqlDatabase = MySqlDatabase<
  MySqlQueryResultHKT,
  PreparedQueryHKTBase,
  Record<string, unknown>
>;

/**
 * The rows an UPDATE or DELETE matched, from the driver's result header: mysql2 resolves
 * `[ResultSetHeader, fields]`, serverless drivers an object with `rowsAffected`.
 */
function affectedRows(result: unknown): number {
  const header = (Array.isArray(result) ? result[0] : result) as {
    affectedRows?: number;
    rowsAffected?: number;
  };
  return Number(header.affectedRows ?? header.rowsAffected ?? 0);
}

/**
 * MySQL and MariaDB have no UPDATE … RETURNING and no data-modifying CTEs, so the multi-row
 * writes are short InnoDB transactions that always lock the session row first.
 */
export function mysqlOps(db: AnyMySqlDatabase, tables: MySqlTokensTables): DialectOps {
  const t = tables as unknown as Tables;
  const { sessions, tokens } = tables;
  return {
    async createSession(session, token) {
      await db.transaction(async (tx) => {
        await tx.insert(sessions).values(sessionRow(session));
        await tx.insert(tokens).values(tokenRow(token));
      });
    },

    async rotate(rotation) {
      return db.transaction(async (tx) => {
        // The conditional UPDATE is the compare-and-set: it locks the row, and a concurrent one
        // waits for this transaction and then finds `current_hash` changed, matching nothing.
        const updated = await tx
          .update(sessions)
          .set(rotationChanges(t, rotation))
          .where(rotationTarget(t, rotation));
        // Lost: nothing was written, so committing the empty transaction is the same as rolling back.
        if (affectedRows(updated) !== 1) return false;
        await tx.insert(tokens).values(tokenRow(rotation.successor));
        return true;
      });
    },

    async rotateLive(rotation) {
      return db.transaction(async (tx) => {
        const queries = tx as unknown as Queries;
        // The compare-and-set, as in `rotate`: it locks the row; a concurrent caller waits, then
        // matches nothing. Without UPDATE … RETURNING, the successor row and the session are
        // read back from the row the UPDATE locked, which now names the successor.
        const updated = await tx
          .update(sessions)
          .set(liveRotationChanges(t, rotation))
          .where(liveRotationTarget(queries, t, rotation));
        if (affectedRows(updated) !== 1) return undefined;
        const rotated = and(
          sessionNaming(queries, t, rotation.expectedHash),
          eq(sessions.currentHash, rotation.successorHash),
        );
        await tx.insert(tokens).select(
          tx
            .select(liveSuccessorSelection(t, rotation, sessions, false) as never)
            .from(sessions)
            .where(rotated),
        );
        const [row] = await rotatedSession(queries, t, rotation);
        return row?.session as Record<string, unknown> | undefined;
      });
    },

    async purge(before, limit) {
      // Pick candidates with a plain read, so the range scan takes no locks; then lock just those
      // rows (re-checking they ended) and delete them with their tokens in one short transaction.
      const candidates = await db
        .select({ id: sessions.id })
        .from(sessions)
        .where(endedBefore(t, before))
        .limit(limit);
      if (candidates.length === 0) return 0;
      return db.transaction(async (tx) => {
        const locked = await tx
          .select({ id: sessions.id })
          .from(sessions)
          .where(
            and(
              inArray(
                sessions.id,
                candidates.map((row) => row.id),
              ),
              endedBefore(t, before),
            ),
          )
          .for("update");
        if (locked.length === 0) return 0;
        const ids = locked.map((row) => row.id);
        await tx.delete(tokens).where(inArray(tokens.sessionId, ids));
        await tx.delete(sessions).where(inArray(sessions.id, ids));
        return locked.length;
      });
    },

    async updateCount(update) {
      return affectedRows(await update);
    },
  };
}
