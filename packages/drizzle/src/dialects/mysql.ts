import type { Rotation, UnchangedByRotation } from "@tokens/core";
import { mysqlBatchedRotate } from "@tokens/core/sql";
import { and, eq, inArray, sql } from "drizzle-orm";
import {
  getTableConfig,
  type MySqlDatabase,
  type MySqlQueryResultHKT,
  type PreparedQueryHKTBase,
} from "drizzle-orm/mysql-core";
import type { MySqlTokensTables } from "../schema/mysql.js";
import {
  byShape,
  type DialectOps,
  driverClient,
  endedBefore,
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

/** The part of a mysql2 pool or connection (promise API) a rotation uses. */
interface Mysql2Executor {
  execute(sql: string, values: unknown[]): Promise<unknown>;
  execute(options: {
    sql: string;
    values: unknown[];
    rowsAsArray: true;
    dateStrings: true;
  }): Promise<[unknown[][], unknown]>;
}

/** The instants among the read-back's columns (`ROTATION_RESULT`). */
const INSTANTS = ["createdAt", "expiresAt"] as const satisfies ReadonlyArray<
  keyof UnchangedByRotation
>;
const utf8 = new TextDecoder();

/**
 * The read-back's row as mysql2's binary protocol hands it over (with `dateStrings`), as the
 * shared readers take it: binary strings as text, and each `DATETIME(3)` — UTC wall-clock time,
 * as Drizzle writes it — as an instant.
 */
function fromBinaryProtocol(row: Row): Row {
  for (const [key, value] of Object.entries(row)) {
    if (value instanceof Uint8Array) row[key] = utf8.decode(value);
  }
  for (const key of INSTANTS) row[key] = new Date(`${String(row[key]).replace(" ", "T")}Z`);
  return row;
}

/**
 * Conflicts that abort a statement (and roll back its transaction) and may not recur: 1213
 * (deadlock found) and 1205 (lock wait timeout, which InnoDB reports after rolling back the
 * statement; the store runs no multi-statement transaction it could leave half done).
 */
function transient(error: unknown): boolean {
  const errno = (error as { errno?: unknown } | null | undefined)?.errno;
  return errno === 1213 || errno === 1205;
}

/**
 * MySQL and MariaDB have no UPDATE … RETURNING: a rotation is the compare-and-set UPDATE by
 * primary key, then, if it changed the row, a read of the row by primary key.
 */
export function mysqlOps(db: AnyMySqlDatabase, tables: MySqlTokensTables): DialectOps {
  const t = tables as unknown as Tables;
  const { sessions } = tables;
  const queries = db as unknown as Queries;

  /**
   * The rotation's UPDATE of one shape, prepared: built once, so no refresh rebuilds the query.
   * It locks one row by primary key and nothing else, so concurrent rotations queue on that
   * row's lock, each re-checks the WHERE after the one before it committed, and no two can
   * deadlock.
   */
  // Drizzle's session holds mysql2's pool or connection with the promise API.
  const mysql2 = driverClient<Mysql2Executor>(db, "MySql2Session", "execute");
  const updates = byShape((shape): ((rotation: Rotation) => Promise<unknown>) => {
    const update = rotationUpdate(queries, t, shape) as unknown as Buildable;
    if (mysql2) {
      // mysql2 itself, as a server-side prepared statement (parsed once per connection, where
      // Drizzle sends the text to be parsed on every refresh), without Drizzle's wrapping.
      const { sql: text, params } = update.toSQL();
      const values = parameterValues(params);
      return (rotation) => mysql2.execute(text, values(rotation));
    }
    const prepared = update.prepare();
    return (rotation) => prepared.execute(rotation as unknown as Record<string, unknown>);
  });
  /**
   * The row, read back by primary key for the columns the rotation does not set. Without a
   * transaction: only the caller whose UPDATE changed the row reads it, and `rotatedSession`
   * takes from the read only what no rotation changes, so the answer is this caller's rotation
   * even when the row has moved on since (the successor already rotated, as a grace replay of
   * the spent token lets another request do at once).
   */
  const select = db
    .select(rotationResultColumns(t) as never)
    .from(sessions)
    .where(eq(sessions.id, sql.placeholder("sessionId")))
    .limit(1);
  const read = readBack(select as unknown as Buildable, mysql2);

  const alone = async (rotation: Rotation): Promise<Row | null> => {
    const updated = await updates.for(rotation)(rotation);
    if (affectedRows(updated) !== 1) return null;
    // Gone between the two statements (revoked, then purged, since): nothing to answer with.
    return (await read(rotation)) ?? null;
  };
  /**
   * With a mysql2 pool, the rotations that arrive together run as one transaction (see
   * `mysqlBatchedRotate`) on a connection of its own; one that arrives alone runs as above.
   */
  const pool = mysql2 && driverClient<Mysql2Pool>(db, "MySql2Session", "getConnection");
  const { name: table, schema } = getTableConfig(sessions);
  const rotate = pool
    ? mysqlBatchedRotate(
        { table, schema, column: (field) => t.sessions[field].name },
        {
          alone,
          answer: (columns) => fromBinaryProtocol(rotationRow(columns)),
          inTransaction: (update, read) => inTransaction(pool, update, read),
          isolate: (error) =>
            typeof (error as { sqlState?: unknown }).sqlState === "string" && !transient(error),
        },
      )
    : alone;

  return {
    // The store runs this again on a transient conflict (see `transient`): a refused or
    // rolled-back UPDATE changed nothing, and the read-back takes no locks.
    async rotate(rotation) {
      const row = await rotate(rotation);
      return row ? rotationResult(row, rotation) : null;
    },

    async purge(before, limit) {
      // A plain read picks the candidates, so the range scan of purge_after takes no locks (it
      // would lock the index gaps too); the DELETE then locks just them, by primary key, and
      // deletes only those that still ended: a rotation or a revocation may have moved them.
      const candidates = await endedIds(queries, t, before, limit);
      if (candidates.length === 0) return 0;
      const ids = candidates.map((row) => row.id as string);
      return affectedRows(
        await db.delete(sessions).where(and(inArray(sessions.id, ids), endedBefore(t, before))),
      );
    },

    async updateCount(update) {
      return affectedRows(await update);
    },

    transient,
  };
}

/**
 * The read-back of a rotated row's unchanged columns by primary key: on mysql2 itself as a
 * server-side prepared statement, like the UPDATE; else through Drizzle.
 */
function readBack(
  select: Buildable,
  mysql2: Mysql2Executor | undefined,
): (rotation: Rotation) => Promise<Row | undefined> {
  if (!mysql2) {
    const prepared = select.prepare();
    return async (rotation) =>
      ((await prepared.execute(rotation as unknown as Record<string, unknown>)) as Row[])[0];
  }
  const { sql: text, params } = select.toSQL();
  const values = parameterValues(params);
  return async (rotation) => {
    const [[row]] = await mysql2.execute({
      sql: text,
      values: values(rotation),
      rowsAsArray: true,
      dateStrings: true,
    });
    return row && fromBinaryProtocol(rotationRow(row));
  };
}

/** The part of a mysql2 promise pool a batch of rotations uses. */
interface Mysql2Pool {
  getConnection(): Promise<
    Mysql2Executor & {
      beginTransaction(): Promise<unknown>;
      commit(): Promise<unknown>;
      rollback(): Promise<unknown>;
      release(): void;
    }
  >;
}

/** `update` then `read` in one transaction on a connection of `pool`: `read`'s rows, as text. */
async function inTransaction(
  pool: Mysql2Pool,
  update: { sql: string; values: unknown[] },
  read: { sql: string; values: unknown[] },
): Promise<unknown[][]> {
  const connection = await pool.getConnection();
  try {
    await connection.beginTransaction();
    await connection.execute(update.sql, update.values);
    const [rows] = await connection.execute({ ...read, rowsAsArray: true, dateStrings: true });
    await connection.commit();
    return rows;
  } catch (error) {
    await connection.rollback().catch(() => undefined);
    throw error;
  } finally {
    connection.release();
  }
}

/** A built UPDATE or SELECT of Drizzle's MySQL dialect, before it runs. */
interface Buildable {
  toSQL(): { sql: string; params: unknown[] };
  prepare(): { execute(values: Record<string, unknown>): Promise<unknown> };
}
