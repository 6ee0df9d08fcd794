import type { ClientContext } from "@tokens/core";
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { resolveNames, type TokensTableNames } from "./names.js";

// Epoch milliseconds: SQLite has no date type, and integers sort and compare exactly.
const instant = (name: string) => integer(name, { mode: "timestamp_ms" });

/**
 * Define the tokens sessions table for SQLite (libsql / Turso, better-sqlite3, …), optionally under your
 * own name. Export the result from your Drizzle schema so `drizzle-kit generate` creates it,
 * and pass the result to {@link drizzleStore} as `tables`.
 *
 * @example
 * ```ts
 * // schema.ts
 * import { sqliteTokensTables } from "@tokens/drizzle";
 *
 * export const authTables = sqliteTokensTables({ sessions: "auth_sessions" });
 * export const { sessions: authSessions } = authTables;
 * ```
 */
export function sqliteTokensTables(names?: TokensTableNames) {
  const n = resolveNames(names);
  const sessions = sqliteTable(
    n.sessions,
    {
      id: text("id").primaryKey(),
      subject: text("subject").notNull(),
      clientId: text("client_id").notNull(),
      generation: integer("generation").notNull(),
      currentHash: text("current_hash").notNull(),
      previousHash: text("previous_hash"),
      sealedSuccessor: text("sealed_successor"),
      rotatedAt: instant("rotated_at"),
      createdAt: instant("created_at").notNull(),
      lastUsedAt: instant("last_used_at").notNull(),
      idleExpiresAt: instant("idle_expires_at").notNull(),
      expiresAt: instant("expires_at").notNull(),
      purgeAfter: instant("purge_after").notNull(),
      revokedAt: instant("revoked_at"),
      revokeReason: text("revoke_reason"),
      client: text("client", { mode: "json" }).$type<ClientContext>(),
      bindingKey: text("binding_key"),
      claims: text("claims", { mode: "json" }).$type<Record<string, unknown>>(),
      dpopJkt: text("dpop_jkt"),
    },
    // Exactly the columns a refresh never changes (purge_after only once per granule), so a
    // rotation writes no index: listSessions and revokeSubject by subject, purge by purge_after.
    (t) => [index(n.subjectIndex).on(t.subject), index(n.purgeAfterIndex).on(t.purgeAfter)],
  );
  return { sessions };
}

/**
 * The SQLite table of {@link sqliteTokensTables}.
 *
 * @example
 * ```ts
 * import type { SQLiteTokensTables } from "@tokens/drizzle";
 *
 * function storeFor(tables: SQLiteTokensTables) {}
 * ```
 */
export type SQLiteTokensTables = ReturnType<typeof sqliteTokensTables>;

const sqliteDefaults = sqliteTokensTables();

/**
 * The SQLite sessions table under its default name `tokens_sessions`. Re-export it from your
 * Drizzle schema.
 *
 * @example
 * ```ts
 * // schema.ts
 * export { sqliteTokensSessions } from "@tokens/drizzle";
 * ```
 */
export const sqliteTokensSessions = sqliteDefaults.sessions;
