import type { ClientContext } from "@tokens/core";
import {
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { resolveNames, type TokensTableNames } from "./names.js";

// Millisecond precision: the store contract allows rounding to milliseconds, and `Date` has no more.
const instant = { withTimezone: true, mode: "date", precision: 3 } as const;

/**
 * Define the tokens tables for PostgreSQL (node-postgres, postgres-js, PGlite, …), optionally
 * under your own names. Export the result from your Drizzle schema so `drizzle-kit generate`
 * creates them, and pass it to {@link drizzleStore} as `tables`.
 *
 * @example
 * ```ts
 * // schema.ts
 * import { pgTokensTables } from "@tokens/drizzle";
 *
 * export const { sessions: authSessions, tokens: authRefreshTokens } = pgTokensTables({
 *   sessions: "auth_sessions",
 *   tokens: "auth_refresh_tokens",
 * });
 * ```
 */
export function pgTokensTables(names?: TokensTableNames) {
  const n = resolveNames(names);
  const sessions = pgTable(
    n.sessions,
    {
      id: text("id").primaryKey(),
      subject: text("subject").notNull(),
      clientId: text("client_id").notNull(),
      generation: integer("generation").notNull(),
      currentHash: text("current_hash").notNull(),
      previousHash: text("previous_hash"),
      sealedSuccessor: text("sealed_successor"),
      rotatedAt: timestamp("rotated_at", instant),
      createdAt: timestamp("created_at", instant).notNull(),
      lastUsedAt: timestamp("last_used_at", instant).notNull(),
      idleExpiresAt: timestamp("idle_expires_at", instant).notNull(),
      expiresAt: timestamp("expires_at", instant).notNull(),
      revokedAt: timestamp("revoked_at", instant),
      revokeReason: text("revoke_reason"),
      client: jsonb("client").$type<ClientContext>(),
      bindingKey: text("binding_key"),
      claims: jsonb("claims").$type<Record<string, unknown>>(),
    },
    (t) => [
      index(n.subjectIndex).on(t.subject),
      uniqueIndex(n.currentHashIndex).on(t.currentHash),
      index(n.idleExpiresIndex).on(t.idleExpiresAt),
      index(n.expiresIndex).on(t.expiresAt),
      index(n.revokedIndex).on(t.revokedAt),
    ],
  );
  const tokens = pgTable(
    n.tokens,
    {
      hash: text("hash").primaryKey(),
      sessionId: text("session_id").notNull(),
      generation: integer("generation").notNull(),
      createdAt: timestamp("created_at", instant).notNull(),
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
 * The PostgreSQL tables of {@link pgTokensTables}.
 *
 * @example
 * ```ts
 * import type { PgTokensTables } from "@tokens/drizzle";
 *
 * function storeFor(tables: PgTokensTables) {}
 * ```
 */
export type PgTokensTables = ReturnType<typeof pgTokensTables>;

const pgDefaults = pgTokensTables();

/**
 * The PostgreSQL sessions table under its default name `tokens_sessions`. Re-export it (and
 * {@link pgTokensRefreshTokens}) from your Drizzle schema.
 *
 * @example
 * ```ts
 * // schema.ts
 * export { pgTokensRefreshTokens, pgTokensSessions } from "@tokens/drizzle";
 * ```
 */
export const pgTokensSessions = pgDefaults.sessions;

/**
 * The PostgreSQL refresh-token table under its default name `tokens_refresh_tokens`.
 *
 * @example
 * ```ts
 * // schema.ts
 * export { pgTokensRefreshTokens, pgTokensSessions } from "@tokens/drizzle";
 * ```
 */
export const pgTokensRefreshTokens = pgDefaults.tokens;
