import type { ClientContext } from "@tokens/core";
import {
  foreignKey,
  index,
  integer,
  sqliteTable,
  text,
  uniqueIndex,
} from "drizzle-orm/sqlite-core";
import { resolveNames, type TokensTableNames } from "./names.js";

// Epoch milliseconds: SQLite has no date type, and integers sort and compare exactly.
const instant = (name: string) => integer(name, { mode: "timestamp_ms" });

/**
 * Define the tokens tables for SQLite (libsql / Turso, better-sqlite3, …), optionally under your
 * own names. Export the result from your Drizzle schema so `drizzle-kit generate` creates them,
 * and pass it to {@link drizzleStore} as `tables`.
 *
 * @example
 * ```ts
 * // schema.ts
 * import { sqliteTokensTables } from "@tokens/drizzle";
 *
 * export const { sessions: authSessions, tokens: authRefreshTokens } = sqliteTokensTables({
 *   sessions: "auth_sessions",
 *   tokens: "auth_refresh_tokens",
 * });
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
      revokedAt: instant("revoked_at"),
      revokeReason: text("revoke_reason"),
      client: text("client", { mode: "json" }).$type<ClientContext>(),
      bindingKey: text("binding_key"),
      claims: text("claims", { mode: "json" }).$type<Record<string, unknown>>(),
    },
    (t) => [
      index(n.subjectIndex).on(t.subject),
      uniqueIndex(n.currentHashIndex).on(t.currentHash),
      index(n.idleExpiresIndex).on(t.idleExpiresAt),
      index(n.expiresIndex).on(t.expiresAt),
      index(n.revokedIndex).on(t.revokedAt),
    ],
  );
  const tokens = sqliteTable(
    n.tokens,
    {
      hash: text("hash").primaryKey(),
      sessionId: text("session_id").notNull(),
      generation: integer("generation").notNull(),
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
 * The SQLite tables of {@link sqliteTokensTables}.
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
 * The SQLite sessions table under its default name `tokens_sessions`. Re-export it (and
 * {@link sqliteTokensRefreshTokens}) from your Drizzle schema.
 *
 * @example
 * ```ts
 * // schema.ts
 * export { sqliteTokensRefreshTokens, sqliteTokensSessions } from "@tokens/drizzle";
 * ```
 */
export const sqliteTokensSessions = sqliteDefaults.sessions;

/**
 * The SQLite refresh-token table under its default name `tokens_refresh_tokens`.
 *
 * @example
 * ```ts
 * // schema.ts
 * export { sqliteTokensRefreshTokens, sqliteTokensSessions } from "@tokens/drizzle";
 * ```
 */
export const sqliteTokensRefreshTokens = sqliteDefaults.tokens;
