import type { Rotation } from "@tokens/core";
import { inArray } from "drizzle-orm";
import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";
import type { SQLiteTokensTables } from "../schema/sqlite.js";
import {
  byShape,
  type DialectOps,
  driverClient,
  endedIds,
  parameterValues,
  type Queries,
  type Row,
  rotationResult,
  rotationResultColumns,
  rotationRow,
  rotationUpdate,
  type Tables,
} from "../shared.js";

/**
 * A Drizzle SQLite database of any driver (libsql, better-sqlite3, D1, …), whatever its schema.
 *
 * @example
 * ```ts
 * import type { AnySQLiteDatabase } from "@tokens/drizzle";
 * import { drizzle } from "drizzle-orm/libsql";
 *
 * const db: AnySQLiteDatabase = drizzle("file:app.db");
 * ```
 */
export type AnySQLiteDatabase = BaseSQLiteDatabase<
  "sync" | "async",
  unknown,
  Record<string, unknown>
>;

/** The rotation's `UPDATE … RETURNING`, built; prepared by {@link sqliteOps}. */
interface Returning {
  returning(fields: Record<string, unknown>): {
    toSQL(): { sql: string; params: unknown[] };
    prepare(): { all(values: Record<string, unknown>): unknown };
  };
}

/** The part of a libsql client the rotation uses. */
interface LibsqlExecutor {
  execute(statement: { sql: string; args: unknown[] }): Promise<{ rows: ArrayLike<unknown>[] }>;
}

/**
 * SQLITE_BUSY: another connection held the write lock past the driver's busy timeout. The
 * statement did not run (each runs on its own, in autocommit), so it can run again.
 */
function transient(error: unknown): boolean {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_BUSY");
}

/**
 * SQLite (3.35 and later): a rotation is one `UPDATE … RETURNING` of the session row by primary
 * key, and purge one `DELETE … WHERE id IN (SELECT … LIMIT)`. SQLite runs one writer at a time,
 * so each is atomic in autocommit, and no transaction is ever held across the event loop.
 */
export function sqliteOps(db: AnySQLiteDatabase, tables: SQLiteTokensTables): DialectOps {
  const t = tables as unknown as Tables;
  const queries = db as unknown as Queries;
  const { sessions } = tables;

  /**
   * The rotation of one shape, prepared: Drizzle builds a query's SQL from its parts each time
   * it runs it (on libsql a quarter of a refresh's CPU time); a prepared query keeps it built,
   * and synchronous drivers keep the statement compiled too.
   */
  const libsql = driverClient<LibsqlExecutor>(db, "LibSQLSession", "execute");
  const statements = byShape((shape): ((rotation: Rotation) => Promise<Row | undefined>) => {
    const query = (rotationUpdate(queries, t, shape) as unknown as Returning).returning(
      rotationResultColumns(t),
    );
    if (libsql) {
      // libsql itself (see driverClient): the same statement, its row read by position.
      const { sql: text, params } = query.toSQL();
      const values = parameterValues(params);
      return async (rotation) => {
        const [row] = (await libsql.execute({ sql: text, args: values(rotation) })).rows;
        return row && rotationRow(row);
      };
    }
    const prepared = query.prepare();
    return async (rotation) =>
      ((await prepared.all(rotation as unknown as Record<string, unknown>)) as Row[])[0];
  });

  return {
    async rotate(rotation) {
      const row = await statements.for(rotation)(rotation);
      return row ? rotationResult(row, rotation) : null;
    },

    async purge(before, limit) {
      const deleted = await db
        .delete(sessions)
        .where(inArray(sessions.id, endedIds(queries, t, before, limit) as never))
        .returning({ id: sessions.id });
      return deleted.length;
    },

    async updateCount(update) {
      return (await update.returning({ id: sessions.id })).length;
    },

    transient,
  };
}
