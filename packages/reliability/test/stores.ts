/*
 * Drizzle stores on a fresh database of a PostgreSQL or MariaDB server, migrated, with pools set
 * up for a server that goes away: connecting gives up fast, and a pooled connection the server
 * dropped is discarded instead of crashing the process.
 */
import type { TokenStore } from "@tokens/core";
import { drizzleStore } from "@tokens/drizzle";
import { drizzle as drizzleMysql } from "drizzle-orm/mysql2";
import { migrate as migrateMysql } from "drizzle-orm/mysql2/migrator";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import mysql from "mysql2/promise";
import pg from "pg";
import {
  freshMysqlDatabase,
  freshPostgresDatabase,
  migrationsFolder,
} from "../../drizzle/test/support/databases.js";

/** Connections each store's pool holds at most. */
export const POOL_SIZE = 4;
/** Gives up on a connection attempt, or on waiting for a pooled connection, after this long. */
const CONNECT_TIMEOUT_MS = 5_000;
/**
 * Safety net: a dead server closes its sockets, so queries fail at once; this only keeps a
 * request from hanging should a socket stay half-open.
 */
const QUERY_TIMEOUT_MS = 10_000;

/**
 * A token store on its own database, and what closes its pool.
 *
 * @example
 * ```ts
 * const { store, close } = await postgresStore(process.env.POSTGRES_URL!, "tokens_faults");
 * ```
 */
export interface SqlStore {
  store: TokenStore;
  /** The database's URL, for other processes to open their own store on it. */
  url: string;
  /** Rows in each table of the database, migration bookkeeping left out. */
  rows(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/** Counts the rows of each named table through `count`. */
async function countRows(
  tables: string[],
  count: (table: string) => Promise<number>,
): Promise<Record<string, number>> {
  const rows: Record<string, number> = {};
  for (const table of tables.filter((name) => !name.startsWith("__")).sort()) {
    rows[table] = await count(table);
  }
  return rows;
}

/**
 * Drops and recreates `database` on the PostgreSQL server of `serverUrl`, applies the drizzle
 * migrations and resolves a store on it.
 *
 * @example
 * ```ts
 * const { store, close } = await postgresStore("postgres://postgres@127.0.0.1:5432/", "faults");
 * ```
 */
export async function postgresStore(serverUrl: string, database: string): Promise<SqlStore> {
  const url = await freshPostgresDatabase(serverUrl, database);
  const pool = new pg.Pool({
    connectionString: url,
    max: POOL_SIZE,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
  });
  // An idle client the server dropped is reported here; the pool discards it and reconnects.
  pool.on("error", () => {});
  await migratePg(drizzlePg({ client: pool }), { migrationsFolder: migrationsFolder("pg") });
  return {
    store: drizzleStore(drizzlePg({ client: pool })),
    url,
    rows: async () => {
      const { rows: tables } = await pool.query<{ name: string }>(
        "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'",
      );
      return countRows(
        tables.map((t) => t.name),
        async (table) =>
          Number((await pool.query(`SELECT count(*) AS n FROM "${table}"`)).rows[0].n),
      );
    },
    close: () => pool.end(),
  };
}

/**
 * Drops and recreates `database` on the MariaDB/MySQL server of `serverUrl`, applies the drizzle
 * migrations and resolves a store on it.
 *
 * @example
 * ```ts
 * const { store, close } = await mariadbStore("mysql://root@127.0.0.1:3306/", "faults");
 * ```
 */
export async function mariadbStore(serverUrl: string, database: string): Promise<SqlStore> {
  const url = await freshMysqlDatabase(serverUrl, database);
  // mysql2 has no pool-wide query timeout; a pooled connection that dies is dropped from the pool.
  const pool = mysql.createPool({
    uri: url,
    connectionLimit: POOL_SIZE,
    connectTimeout: CONNECT_TIMEOUT_MS,
  });
  await migrateMysql(drizzleMysql({ client: pool }), {
    migrationsFolder: migrationsFolder("mysql"),
  });
  const count = async (sql: string) => {
    const [rows] = await pool.query<mysql.RowDataPacket[]>(sql);
    return rows;
  };
  return {
    store: drizzleStore(drizzleMysql({ client: pool })),
    url,
    rows: async () =>
      countRows(
        (
          await count(
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE()",
          )
        ).map((t) => String(t.name)),
        async (table) => Number((await count(`SELECT count(*) AS n FROM \`${table}\``))[0]?.n),
      ),
    close: () => pool.end(),
  };
}
