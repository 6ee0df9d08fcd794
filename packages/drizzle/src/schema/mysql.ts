import type { ClientContext } from "@tokens/core";
import {
  customType,
  datetime,
  foreignKey,
  index,
  int,
  mysqlTable,
  text,
  uniqueIndex,
  varbinary,
  varchar,
} from "drizzle-orm/mysql-core";
import { resolveNames, type TokensTableNames } from "./names.js";

// MySQL and MariaDB compare strings case-insensitively (and ignore trailing spaces) under their
// default collations, which would make `abc` and `ABC` the same token hash or the same user.
// VARBINARY compares bytes exactly, like PostgreSQL and SQLite do.
const key = (name: string) => varbinary(name, { length: 255 });
const hash = (name: string) => varbinary(name, { length: 64 });

// DATETIME(3) holds UTC wall-clock time (Drizzle writes and reads it as UTC) without TIMESTAMP's
// 2038 limit or its conversion to the session time zone.
const instant = (name: string) => datetime(name, { mode: "date", fsp: 3 });

// JSON as TEXT: MariaDB's JSON type is LONGTEXT in disguise and comes back from the driver as a
// string, so the column encodes and decodes itself the same way on both servers.
const jsonText = <T>() =>
  customType<{ data: T; driverData: string }>({
    dataType: () => "text",
    toDriver: (value) => JSON.stringify(value),
    fromDriver: (value) => JSON.parse(value) as T,
  });

/**
 * Define the tokens tables for MySQL 8 and MariaDB 10.5+ (mysql2), optionally under your own
 * names. Export the result from your Drizzle schema so `drizzle-kit generate` creates them, and
 * pass it to {@link drizzleStore} as `tables`.
 *
 * @example
 * ```ts
 * // schema.ts
 * import { mysqlTokensTables } from "@tokens/drizzle";
 *
 * export const { sessions: authSessions, tokens: authRefreshTokens } = mysqlTokensTables({
 *   sessions: "auth_sessions",
 *   tokens: "auth_refresh_tokens",
 * });
 * ```
 */
export function mysqlTokensTables(names?: TokensTableNames) {
  const n = resolveNames(names);
  const sessions = mysqlTable(
    n.sessions,
    {
      id: key("id").primaryKey(),
      subject: key("subject").notNull(),
      clientId: key("client_id").notNull(),
      generation: int("generation").notNull(),
      currentHash: hash("current_hash").notNull(),
      previousHash: hash("previous_hash"),
      sealedSuccessor: text("sealed_successor"),
      rotatedAt: instant("rotated_at"),
      createdAt: instant("created_at").notNull(),
      lastUsedAt: instant("last_used_at").notNull(),
      idleExpiresAt: instant("idle_expires_at").notNull(),
      expiresAt: instant("expires_at").notNull(),
      revokedAt: instant("revoked_at"),
      revokeReason: varchar("revoke_reason", { length: 255 }),
      client: jsonText<ClientContext>()("client"),
      bindingKey: hash("binding_key"),
      claims: jsonText<Record<string, unknown>>()("claims"),
    },
    (t) => [
      index(n.subjectIndex).on(t.subject),
      uniqueIndex(n.currentHashIndex).on(t.currentHash),
      index(n.idleExpiresIndex).on(t.idleExpiresAt),
      index(n.expiresIndex).on(t.expiresAt),
      index(n.revokedIndex).on(t.revokedAt),
    ],
  );
  const tokens = mysqlTable(
    n.tokens,
    {
      hash: hash("hash").primaryKey(),
      sessionId: key("session_id").notNull(),
      generation: int("generation").notNull(),
      createdAt: instant("created_at").notNull(),
    },
    (t) => [
      index(n.sessionIdIndex).on(t.sessionId),
      foreignKey({
        name: n.sessionForeignKey,
        columns: [t.sessionId],
        foreignColumns: [sessions.id],
      }),
    ],
  );
  return { sessions, tokens };
}

/**
 * The MySQL/MariaDB tables of {@link mysqlTokensTables}.
 *
 * @example
 * ```ts
 * import type { MySqlTokensTables } from "@tokens/drizzle";
 *
 * function storeFor(tables: MySqlTokensTables) {}
 * ```
 */
export type MySqlTokensTables = ReturnType<typeof mysqlTokensTables>;

const mysqlDefaults = mysqlTokensTables();

/**
 * The MySQL/MariaDB sessions table under its default name `tokens_sessions`. Re-export it (and
 * {@link mysqlTokensRefreshTokens}) from your Drizzle schema.
 *
 * @example
 * ```ts
 * // schema.ts
 * export { mysqlTokensRefreshTokens, mysqlTokensSessions } from "@tokens/drizzle";
 * ```
 */
export const mysqlTokensSessions = mysqlDefaults.sessions;

/**
 * The MySQL/MariaDB refresh-token table under its default name `tokens_refresh_tokens`.
 *
 * @example
 * ```ts
 * // schema.ts
 * export { mysqlTokensRefreshTokens, mysqlTokensSessions } from "@tokens/drizzle";
 * ```
 */
export const mysqlTokensRefreshTokens = mysqlDefaults.tokens;
