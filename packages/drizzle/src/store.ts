import {
  ConfigurationError,
  StoreUnavailableError,
  type TokenStore,
  TokensError,
} from "@tokens/core";
import { and, asc, eq, gt, is, isNull } from "drizzle-orm";
import { MySqlDatabase, MySqlTable } from "drizzle-orm/mysql-core";
import { PgDatabase, PgTable } from "drizzle-orm/pg-core";
import { BaseSQLiteDatabase, SQLiteTable } from "drizzle-orm/sqlite-core";
import { type AnyMySqlDatabase, mysqlOps } from "./dialects/mysql.js";
import { type AnyPgDatabase, pgOps } from "./dialects/pg.js";
import { type AnySQLiteDatabase, sqliteOps } from "./dialects/sqlite.js";
import { type MySqlTokensTables, mysqlTokensSessions } from "./schema/mysql.js";
import { type PgTokensTables, pgTokensSessions } from "./schema/pg.js";
import { type SQLiteTokensTables, sqliteTokensSessions } from "./schema/sqlite.js";
import {
  type DialectOps,
  driverError,
  earlierOf,
  type Queries,
  sessionRow,
  type Tables,
  toSession,
} from "./shared.js";

/**
 * The SQL dialect of a Drizzle database: `"postgresql"`, `"mysql"` (MySQL and MariaDB) or
 * `"sqlite"`.
 *
 * @example
 * ```ts
 * import type { DrizzleDialect } from "@tokens/drizzle";
 *
 * const dialect: DrizzleDialect = "mysql";
 * ```
 */
export type DrizzleDialect = "postgresql" | "mysql" | "sqlite";

/**
 * Options of {@link drizzleStore}.
 *
 * @example
 * ```ts
 * import { drizzleStore, pgTokensTables, type DrizzleStoreOptions, type PgTokensTables } from "@tokens/drizzle";
 *
 * const options: DrizzleStoreOptions<PgTokensTables> = {
 *   dialect: "postgresql",
 *   tables: pgTokensTables({ sessions: "auth_sessions" }),
 * };
 * ```
 */
export interface DrizzleStoreOptions<TTables> {
  /**
   * The database's dialect. Detected from the Drizzle database object; when given, it must
   * match what is detected (a safety check, not an override).
   */
  dialect?: DrizzleDialect;
  /**
   * The table from `pgTokensTables()`, `mysqlTokensTables()` or `sqliteTokensTables()`, of the
   * same dialect as the database. Default: that dialect's table under its default name.
   */
  tables?: TTables;
  /**
   * PostgreSQL: whether the refresh statement is a named server-side prepared statement, parsed
   * and planned once per connection instead of on every refresh. Default `true`.
   *
   * Set `false` behind a connection pooler that does not keep protocol-level prepared
   * statements: PgBouncer before 1.21 in transaction mode, and some proxies (PgBouncer 1.21 and
   * later keeps them when `max_prepared_statements` is above 0). Left `true` there, the store
   * still recovers on its own: the first refresh that finds its statement gone is retried
   * unnamed, and that store prepares nothing by name from then on. Applies to drivers that take
   * the statement's name (node-postgres and its kin), and to PGlite, on whose one backend the
   * store prepares the statement itself; postgres-js follows its own `prepare` option. Ignored
   * by MySQL and SQLite.
   *
   * @example
   * ```ts
   * import { drizzleStore } from "@tokens/drizzle";
   * import { drizzle } from "drizzle-orm/node-postgres";
   *
   * // Through PgBouncer < 1.21 in transaction mode:
   * const store = drizzleStore(drizzle(process.env.PGBOUNCER_URL!), { preparedStatements: false });
   * ```
   */
  preparedStatements?: boolean;
}

/** A Drizzle database of a supported dialect. */
type AnyDatabase = AnyPgDatabase | AnyMySqlDatabase | AnySQLiteDatabase;

function detectDialect(db: unknown): DrizzleDialect | undefined {
  if (is(db, PgDatabase)) return "postgresql";
  if (is(db, MySqlDatabase)) return "mysql";
  if (is(db, BaseSQLiteDatabase)) return "sqlite";
  return undefined;
}

function tablesDialect(tables: { sessions: unknown }): DrizzleDialect | undefined {
  const { sessions } = tables;
  if (is(sessions, PgTable)) return "postgresql";
  if (is(sessions, MySqlTable)) return "mysql";
  if (is(sessions, SQLiteTable)) return "sqlite";
  return undefined;
}

/** How many times an operation runs when it keeps meeting transient conflicts. */
const ATTEMPTS = 5;

/**
 * Run a store operation, turning every database failure into {@link StoreUnavailableError}.
 * A transient conflict (see {@link DialectOps.transient}) aborted the whole operation, so it
 * runs again, after a short random pause, up to {@link ATTEMPTS} times: callers never see one.
 */
function guarded(ops: DialectOps) {
  return <A extends unknown[], R>(operation: string, run: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await run(...args);
        } catch (error) {
          if (error instanceof TokensError) throw error;
          const cause = driverError(error);
          if (attempt < ATTEMPTS && ops.transient(cause)) {
            await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
            continue;
          }
          // The message names the operation only: parameters (hashes, sealed successors) stay in `cause`.
          throw new StoreUnavailableError(`Drizzle token store: ${operation} failed`, { cause });
        }
      }
    };
}

/** The store: shared reads and updates, dialect-specific rotation and purge. */
function createStore(db: Queries, t: Tables, ops: DialectOps): TokenStore {
  const { sessions } = t;
  const guard = guarded(ops);
  const live = isNull(sessions.revokedAt);
  /** What a revocation at `at` sets: `purgeAfter` moves no later, only earlier. */
  const revocation = (at: Date, reason: string) => ({
    revokedAt: at,
    revokeReason: reason,
    purgeAfter: earlierOf(sessions.purgeAfter, at),
  });
  return {
    createSession: guard("createSession", async (session) => {
      await db.insert(sessions).values(sessionRow(session) as unknown as Record<string, unknown>);
    }),

    getSession: guard("getSession", async (id: string) => {
      const [row] = await db
        .select({ session: sessions })
        .from(sessions)
        .where(eq(sessions.id, id))
        .limit(1);
      return row ? toSession(row.session as Record<string, unknown>) : null;
    }),

    rotate: guard("rotate", ops.rotate),

    listSessions: guard("listSessions", async (subject: string, now: Date) => {
      const rows = await db
        .select({ session: sessions })
        .from(sessions)
        .where(
          and(
            eq(sessions.subject, subject),
            live,
            gt(sessions.idleExpiresAt, now),
            gt(sessions.expiresAt, now),
          ),
        )
        // The id breaks ties so sessions created in the same millisecond keep a stable order.
        .orderBy(asc(sessions.createdAt), asc(sessions.id));
      return rows.map((row) => toSession(row.session as Record<string, unknown>));
    }),

    revokeSession: guard("revokeSession", async (id: string, at: Date, reason: string) => {
      const update = db
        .update(sessions)
        .set(revocation(at, reason))
        .where(and(eq(sessions.id, id), live));
      return (await ops.updateCount(update)) === 1;
    }),

    revokeSubject: guard("revokeSubject", async (subject: string, at: Date, reason: string) => {
      const update = db
        .update(sessions)
        .set(revocation(at, reason))
        .where(and(eq(sessions.subject, subject), live));
      return ops.updateCount(update);
    }),

    purge: guard("purge", ops.purge),
  };
}

/**
 * A {@link TokenStore} over a Drizzle database: PostgreSQL (node-postgres, postgres-js, PGlite,
 * …), MySQL or MariaDB (mysql2), or SQLite (libsql, better-sqlite3, D1). The dialect is detected
 * from `db`; `tables` defaults to that dialect's table under its default name. Create the
 * table first with `drizzle-kit generate` + `migrate` (see the package README).
 *
 * A refresh is one UPDATE of the session row by primary key that changes no indexed column (on
 * MySQL/MariaDB, which has no UPDATE … RETURNING, followed by a read of the row by primary key).
 * Deadlocks and lock wait timeouts are retried inside the store; every other database failure
 * surfaces as `StoreUnavailableError` with the driver's error as `cause`.
 *
 * @example
 * ```ts
 * import { createTokens } from "@tokens/core";
 * import { drizzleStore } from "@tokens/drizzle";
 * import { drizzle } from "drizzle-orm/node-postgres";
 *
 * const db = drizzle(process.env.DATABASE_URL!);
 * const tokens = createTokens({ issuer, audience, keys, store: drizzleStore(db) });
 * ```
 *
 * @example A custom table name (the same table your schema exports)
 * ```ts
 * import { drizzleStore, mysqlTokensTables } from "@tokens/drizzle";
 *
 * const tables = mysqlTokensTables({ sessions: "auth_sessions" });
 * const store = drizzleStore(db, { tables });
 * ```
 */
export function drizzleStore(
  db: AnyPgDatabase,
  options?: DrizzleStoreOptions<PgTokensTables> & { dialect?: "postgresql" },
): TokenStore;
export function drizzleStore(
  db: AnyMySqlDatabase,
  options?: DrizzleStoreOptions<MySqlTokensTables> & { dialect?: "mysql" },
): TokenStore;
export function drizzleStore(
  db: AnySQLiteDatabase,
  options?: DrizzleStoreOptions<SQLiteTokensTables> & { dialect?: "sqlite" },
): TokenStore;
export function drizzleStore(
  db: AnyDatabase,
  options: DrizzleStoreOptions<PgTokensTables | MySqlTokensTables | SQLiteTokensTables> = {},
): TokenStore {
  const detected = detectDialect(db);
  const dialect = detected ?? options.dialect;
  if (!dialect) {
    throw new ConfigurationError(
      "drizzleStore: the first argument is not a Drizzle PostgreSQL, MySQL or SQLite database",
    );
  }
  if (options.dialect && options.dialect !== dialect) {
    throw new ConfigurationError(
      `drizzleStore: dialect "${options.dialect}" was given but the database is ${dialect}`,
    );
  }
  if (options.tables && tablesDialect(options.tables) !== dialect) {
    throw new ConfigurationError(
      `drizzleStore: tables must come from the ${dialect} table factory, like the database`,
    );
  }
  const queries = db as unknown as Queries;
  switch (dialect) {
    case "postgresql": {
      const tables = (options.tables as PgTokensTables | undefined) ?? {
        sessions: pgTokensSessions,
      };
      return createStore(
        queries,
        tables as unknown as Tables,
        pgOps(db as AnyPgDatabase, tables, options.preparedStatements !== false),
      );
    }
    case "mysql": {
      const tables = (options.tables as MySqlTokensTables | undefined) ?? {
        sessions: mysqlTokensSessions,
      };
      return createStore(
        queries,
        tables as unknown as Tables,
        mysqlOps(db as AnyMySqlDatabase, tables),
      );
    }
    case "sqlite": {
      const tables = (options.tables as SQLiteTokensTables | undefined) ?? {
        sessions: sqliteTokensSessions,
      };
      return createStore(
        queries,
        tables as unknown as Tables,
        sqliteOps(db as AnySQLiteDatabase, tables),
      );
    }
    default:
      throw new ConfigurationError(`drizzleStore: unsupported dialect "${String(dialect)}"`);
  }
}
