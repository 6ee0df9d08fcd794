import type { ClientContext } from "@tokens/core";
import { index, integer, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { resolveNames, type TokensTableNames } from "./names.js";

// Millisecond precision: the store contract allows rounding to milliseconds, and `Date` has no more.
const instant = { withTimezone: true, mode: "date", precision: 3 } as const;

/**
 * Define the tokens sessions table for PostgreSQL (node-postgres, postgres-js, PGlite, …), optionally
 * under your own name. Export the result from your Drizzle schema so `drizzle-kit generate`
 * creates it, and pass the result to {@link drizzleStore} as `tables`.
 *
 * Drizzle cannot declare a table's storage parameters: add
 * `ALTER TABLE "auth_sessions" SET (fillfactor = 80);` to the migration that creates the table
 * (the shipped migrations do), so that a refresh's new row version fits on the row's own page and
 * PostgreSQL updates it in place (a heap-only tuple update, no index write).
 *
 * @example
 * ```ts
 * // schema.ts
 * import { pgTokensTables } from "@tokens/drizzle";
 *
 * export const authTables = pgTokensTables({ sessions: "auth_sessions" });
 * export const { sessions: authSessions } = authTables;
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
      purgeAfter: timestamp("purge_after", instant).notNull(),
      revokedAt: timestamp("revoked_at", instant),
      revokeReason: text("revoke_reason"),
      client: jsonb("client").$type<ClientContext>(),
      bindingKey: text("binding_key"),
      claims: jsonb("claims").$type<Record<string, unknown>>(),
      dpopJkt: text("dpop_jkt"),
    },
    // Exactly the columns a refresh never changes (purge_after only once per granule), so a
    // rotation writes no index: listSessions and revokeSubject by subject, purge by purge_after.
    (t) => [index(n.subjectIndex).on(t.subject), index(n.purgeAfterIndex).on(t.purgeAfter)],
  );
  return { sessions };
}

/**
 * The PostgreSQL table of {@link pgTokensTables}.
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
 * The PostgreSQL sessions table under its default name `tokens_sessions`. Re-export it from your
 * Drizzle schema.
 *
 * @example
 * ```ts
 * // schema.ts
 * export { pgTokensSessions } from "@tokens/drizzle";
 * ```
 */
export const pgTokensSessions = pgDefaults.sessions;
