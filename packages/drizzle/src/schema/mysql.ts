import type { ClientContext } from "@tokens/core";
import {
  customType,
  datetime,
  index,
  int,
  mysqlTable,
  text,
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
 * Define the tokens sessions table for MySQL 8 and MariaDB 10.5+ (mysql2), optionally under your own
 * name. Export the result from your Drizzle schema so `drizzle-kit generate` creates it, and
 * pass the result to {@link drizzleStore} as `tables`.
 *
 * @example
 * ```ts
 * // schema.ts
 * import { mysqlTokensTables } from "@tokens/drizzle";
 *
 * export const authTables = mysqlTokensTables({ sessions: "auth_sessions" });
 * export const { sessions: authSessions } = authTables;
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
      purgeAfter: instant("purge_after").notNull(),
      revokedAt: instant("revoked_at"),
      revokeReason: varchar("revoke_reason", { length: 255 }),
      client: jsonText<ClientContext>()("client"),
      bindingKey: hash("binding_key"),
      claims: jsonText<Record<string, unknown>>()("claims"),
      dpopJkt: hash("dpop_jkt"),
    },
    // Exactly the columns a refresh never changes (purge_after only once per granule), so a
    // rotation writes no index: listSessions and revokeSubject by subject, purge by purge_after.
    (t) => [index(n.subjectIndex).on(t.subject), index(n.purgeAfterIndex).on(t.purgeAfter)],
  );
  return { sessions };
}

/**
 * The MySQL/MariaDB table of {@link mysqlTokensTables}.
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
 * The MySQL/MariaDB sessions table under its default name `tokens_sessions`. Re-export it from your
 * Drizzle schema.
 *
 * @example
 * ```ts
 * // schema.ts
 * export { mysqlTokensSessions } from "@tokens/drizzle";
 * ```
 */
export const mysqlTokensSessions = mysqlDefaults.sessions;
