import type { Rotation } from "@tokens/core";
import { coalesced } from "@tokens/core/sql";
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

/** A statement for libsql, and what it answers. */
type LibsqlStatement = { sql: string; args: unknown[] };
type LibsqlResult = { rows: ArrayLike<unknown>[] };

/** The part of a libsql client the rotation uses. */
interface LibsqlExecutor {
  execute(statement: LibsqlStatement): Promise<LibsqlResult>;
  batch(statements: LibsqlStatement[], mode: "write"): Promise<LibsqlResult[]>;
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
 * Whether SQLite refused a statement (an `SQLITE_…` code) other than for the write lock: the
 * whole batch was rolled back, and another rotation of it may be the cause.
 */
function refusedStatement(error: unknown): boolean {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_") && !transient(error);
}

/**
 * libsql itself (see driverClient): the rotations of one shape that arrive in one turn of the
 * event loop (see `coalesced`) run as one write transaction of their statements — each its own
 * compare-and-set, a row read by position — so they share one commit: one sync of the WAL
 * instead of one per refresh, which is most of what a refresh costs SQLite. A batch SQLite
 * refuses was rolled back whole: each of its rotations runs again alone, so one rotation's
 * failure is its own.
 */
function batched(
  libsql: LibsqlExecutor,
  { sql, params }: { sql: string; params: unknown[] },
): (rotation: Rotation) => Promise<Row | undefined> {
  const values = parameterValues(params);
  const statement = (rotation: Rotation) => ({ sql, args: values(rotation) });
  const read = ({ rows: [row] }: LibsqlResult) => row && rotationRow(row);
  const alone = async (rotation: Rotation) => read(await libsql.execute(statement(rotation)));
  return coalesced(async (rotations) => {
    if (rotations.length === 1) return rotations.map(alone);
    try {
      return (await libsql.batch(rotations.map(statement), "write")).map(read);
    } catch (error) {
      if (!refusedStatement(error)) throw error;
      return rotations.map(alone);
    }
  });
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
  const libsql = driverClient<LibsqlExecutor>(db, "LibSQLSession", "batch");
  const statements = byShape((shape): ((rotation: Rotation) => Promise<Row | undefined>) => {
    const query = (rotationUpdate(queries, t, shape) as unknown as Returning).returning(
      rotationResultColumns(t),
    );
    if (libsql) return batched(libsql, query.toSQL());
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
