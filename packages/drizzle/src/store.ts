import {
  ConfigurationError,
  type LiveRotation,
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
import {
  type MySqlTokensTables,
  mysqlTokensRefreshTokens,
  mysqlTokensSessions,
} from "./schema/mysql.js";
import { type PgTokensTables, pgTokensRefreshTokens, pgTokensSessions } from "./schema/pg.js";
import {
  type SQLiteTokensTables,
  sqliteTokensRefreshTokens,
  sqliteTokensSessions,
} from "./schema/sqlite.js";
import {
  type DialectOps,
  driverError,
  type Queries,
  type Tables,
  toSession,
  toToken,
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
 *   tables: pgTokensTables({ sessions: "auth_sessions", tokens: "auth_refresh_tokens" }),
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
   * The tables from `pgTokensTables()`, `mysqlTokensTables()` or `sqliteTokensTables()`, of the
   * same dialect as the database. Default: that dialect's tables under their default names.
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

function tablesDialect(tables: { sessions: unknown; tokens: unknown }): DrizzleDialect | undefined {
  const { sessions, tokens } = tables;
  if (is(sessions, PgTable) && is(tokens, PgTable)) return "postgresql";
  if (is(sessions, MySqlTable) && is(tokens, MySqlTable)) return "mysql";
  if (is(sessions, SQLiteTable) && is(tokens, SQLiteTable)) return "sqlite";
  return undefined;
}

/** Run a store operation, turning every database failure into {@link StoreUnavailableError}. */
function guard<A extends unknown[], R>(
  operation: string,
  run: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await run(...args);
    } catch (error) {
      if (error instanceof TokensError) throw error;
      // The message names the operation only: parameters (hashes, sealed successors) stay in `cause`.
      throw new StoreUnavailableError(`Drizzle token store: ${operation} failed`, {
        cause: driverError(error),
      });
    }
  };
}

/** The store: shared reads and updates, dialect-specific atomic writes. */
function createStore(db: Queries, t: Tables, ops: DialectOps): TokenStore {
  const { sessions, tokens } = t;
  const live = isNull(sessions.revokedAt);
  return {
    createSession: guard("createSession", ops.createSession),

    findToken: guard("findToken", async (hash: string) => {
      const [row] = await db
        .select({ token: tokens, session: sessions })
        .from(tokens)
        .innerJoin(sessions, eq(tokens.sessionId, sessions.id))
        .where(eq(tokens.hash, hash))
        .limit(1);
      if (!row) return null;
      return {
        token: toToken(row.token as Record<string, unknown>),
        session: toSession(row.session as Record<string, unknown>),
      };
    }),

    rotate: guard("rotate", ops.rotate),

    rotateLive: guard("rotateLive", async (rotation: LiveRotation) => {
      const row = await ops.rotateLive(rotation);
      return row ? toSession(row) : null;
    }),

    getSession: guard("getSession", async (id: string) => {
      const [row] = await db
        .select({ session: sessions })
        .from(sessions)
        .where(eq(sessions.id, id))
        .limit(1);
      return row ? toSession(row.session as Record<string, unknown>) : null;
    }),

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
        .set({ revokedAt: at, revokeReason: reason })
        .where(and(eq(sessions.id, id), live));
      return (await ops.updateCount(update)) === 1;
    }),

    revokeSubject: guard("revokeSubject", async (subject: string, at: Date, reason: string) => {
      const update = db
        .update(sessions)
        .set({ revokedAt: at, revokeReason: reason })
        .where(and(eq(sessions.subject, subject), live));
      return ops.updateCount(update);
    }),

    purge: guard("purge", ops.purge),
  };
}

/**
 * A {@link TokenStore} over a Drizzle database: PostgreSQL (node-postgres, postgres-js, PGlite,
 * …), MySQL or MariaDB (mysql2), or SQLite (libsql, better-sqlite3, D1). The dialect is detected
 * from `db`; `tables` defaults to that dialect's tables under their default names. Create the
 * tables first with `drizzle-kit generate` + `migrate` (see the package README).
 *
 * Every database failure surfaces as `StoreUnavailableError` with the driver's error as `cause`.
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
 * @example Custom table names (the same ones your schema exports)
 * ```ts
 * import { drizzleStore, mysqlTokensTables } from "@tokens/drizzle";
 *
 * const tables = mysqlTokensTables({ sessions: "auth_sessions", tokens: "auth_refresh_tokens" });
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
        tokens: pgTokensRefreshTokens,
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
        tokens: mysqlTokensRefreshTokens,
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
        tokens: sqliteTokensRefreshTokens,
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
