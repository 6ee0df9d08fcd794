import type { LiveRotation } from "@tokens/core";
import { inArray, sql } from "drizzle-orm";
import type {
  MySqlDatabase,
  MySqlQueryResultHKT,
  PreparedQueryHKTBase,
} from "drizzle-orm/mysql-core";
import type { MySqlTokensTables } from "../schema/mysql.js";
import {
  byShape,
  type DialectOps,
  liveRotated,
  liveRotationChanges,
  liveRotationTarget,
  purgeCandidates,
  type Queries,
  type Row,
  rotationChanges,
  rotationTarget,
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
  const queries = db as unknown as Queries;

  /**
   * `rotateLive` without a transaction, in three statements that are each atomic: read the
   * session under the rotation's conditions (a refusal costs this one read), insert the
   * successor's token row, then the compare-and-set UPDATE under the same conditions. Of
   * concurrent callers exactly one UPDATE matches (the row lock orders them; the others find
   * `current_hash` changed). A loser leaves its successor row behind, which no session names —
   * what the contract allows, as for `rotate` — and purge deletes it with the session. Each
   * statement is built once per shape and prepared, so no query is rebuilt per refresh.
   */
  const liveStatements = (rotation: LiveRotation) => {
    const target = liveRotationTarget(t, rotation);
    const value = (name: string) => sql.placeholder(name);
    return {
      read: db.select({ session: sessions }).from(sessions).where(target).limit(1).prepare(),
      insert: db
        .insert(tokens)
        .values({
          hash: value("successorHash"),
          sessionId: value("sessionId"),
          generation: value("generation"),
          createdAt: value("rotatedAt"),
        })
        .prepare(),
      update: db.update(sessions).set(liveRotationChanges(t, rotation)).where(target).prepare(),
    };
  };
  const live = byShape(liveStatements);

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
      const statements = live.for(rotation);
      const values = rotation as unknown as Record<string, unknown>;
      const [found] = (await statements.read.execute(values)) as Array<{ session: Row }>;
      if (!found) return undefined;
      const rotated = liveRotated(found.session, rotation);
      await statements.insert.execute({
        successorHash: rotation.successorHash,
        sessionId: rotated.id,
        generation: rotated.generation,
        rotatedAt: rotation.rotatedAt,
      });
      const updated = await statements.update.execute(values);
      return affectedRows(updated) === 1 ? rotated : undefined;
    },

    async purge(before, limit) {
      const stillEnded = await purgeCandidates(queries, t, before, limit);
      if (!stillEnded) return 0;
      // Lock just the candidates that still ended, then delete them with their tokens, in one
      // short transaction.
      return db.transaction(async (tx) => {
        const locked = await tx
          .select({ id: sessions.id })
          .from(sessions)
          .where(stillEnded)
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
