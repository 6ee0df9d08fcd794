import { ConfigurationError } from "@tokens/core";
import { and, eq, inArray } from "drizzle-orm";
import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";
import type { SQLiteTokensTables } from "../schema/sqlite.js";
import {
  type DialectOps,
  liveRotationChanges,
  liveRotationTarget,
  liveSuccessorSelection,
  purgeCandidates,
  type Queries,
  type Row,
  rotationChanges,
  rotationTarget,
  sessionNaming,
  sessionRow,
  successorSelection,
  type Tables,
  tokenRow,
} from "../shared.js";

/**
 * A Drizzle SQLite database of any driver (libsql, better-sqlite3, D1, …), whatever its schema.
 *
 * @example
 * ```ts
 * import type { AnySQLiteDatabase } from "@tokens/drizzle";
 * import { drizzle } from "drizzle-orm/libsql";
 *
 * const db: AnySQLiteDatabase = drizzle("file:app.db");
 * ```
 */
export type AnySQLiteDatabase = BaseSQLiteDatabase<
  "sync" | "async",
  unknown,
  Record<string, unknown>
>;

/** A built statement that returns rows (every step below ends in RETURNING). */
interface Step {
  all(): unknown;
}

/**
 * Run statements as one transaction. SQLite allows one writer at a time, so a write transaction
 * is already serial; what matters is never holding it across the event loop. Drivers with
 * `batch` (libsql, D1) send the statements at once; synchronous drivers (better-sqlite3) run them
 * inside a native transaction that cannot yield. Both beat an interactive transaction, which on
 * libsql would pin one pooled connection per concurrent call.
 */
function atomicRunner(db: AnySQLiteDatabase): (steps: Step[]) => Promise<unknown[][]> {
  const batching = db as unknown as { batch?: (steps: Step[]) => Promise<unknown[][]> };
  if (typeof batching.batch === "function") {
    const batch = batching.batch.bind(db);
    return (steps) => batch(steps);
  }
  const sync = db as unknown as {
    resultKind?: string;
    transaction<T>(run: () => T, config: { behavior: "immediate" }): T;
  };
  if (sync.resultKind === "sync") {
    return async (steps) =>
      sync.transaction(() => steps.map((step) => step.all() as unknown[]), {
        behavior: "immediate",
      });
  }
  throw new ConfigurationError(
    "drizzleStore: this SQLite driver has neither batch() nor synchronous transactions; use libsql, D1 or better-sqlite3",
  );
}

/** SQLite: each multi-row write is one atomic batch of statements that do not depend on each other. */
export function sqliteOps(db: AnySQLiteDatabase, tables: SQLiteTokensTables): DialectOps {
  const t = tables as unknown as Tables;
  const queries = db as unknown as Queries;
  const { sessions, tokens } = tables;
  const atomic = atomicRunner(db);
  return {
    async createSession(session, token) {
      await atomic([
        db.insert(sessions).values(sessionRow(session)).returning({ id: sessions.id }),
        db.insert(tokens).values(tokenRow(token)).returning({ hash: tokens.hash }),
      ]);
    },

    async rotate(rotation) {
      // Both statements test the same condition inside one write transaction, so either both
      // find the session (successor inserted, session moved on) or neither does.
      const [inserted] = await atomic([
        db
          .insert(tokens)
          .select(
            db
              // Typed casts in SQL make the selection match the columns; Drizzle's types cannot see it.
              .select(successorSelection(t, rotation, sessions.id) as never)
              .from(sessions)
              .where(rotationTarget(t, rotation)),
          )
          .returning({ hash: tokens.hash }),
        db
          .update(sessions)
          .set(rotationChanges(t, rotation))
          .where(rotationTarget(t, rotation))
          .returning({ id: sessions.id }),
      ]);
      return inserted?.length === 1;
    },

    async rotateLive(rotation) {
      // One write transaction: the UPDATE is the compare-and-set; the INSERT finds the session
      // by the successor hash it now names, so it inserts only when the UPDATE rotated.
      const [rotated] = await atomic([
        db
          .update(sessions)
          .set(liveRotationChanges(t, rotation))
          .where(liveRotationTarget(queries, t, rotation))
          .returning(),
        db
          .insert(tokens)
          .select(
            db
              .select(liveSuccessorSelection(t, rotation, sessions) as never)
              .from(sessions)
              .where(
                and(
                  sessionNaming(queries, t, rotation.expectedHash),
                  eq(sessions.currentHash, rotation.successorHash),
                ),
              ),
          )
          .returning({ hash: tokens.hash }),
      ]);
      return rotated?.[0] as Row | undefined;
    },

    async purge(before, limit) {
      // Re-checked where they are deleted: only sessions that still ended go.
      const doomed = await purgeCandidates(queries, t, before, limit);
      if (!doomed) return 0;
      const [, deleted] = await atomic([
        db
          .delete(tokens)
          .where(
            inArray(tokens.sessionId, db.select({ id: sessions.id }).from(sessions).where(doomed)),
          )
          .returning({ hash: tokens.hash }),
        db.delete(sessions).where(doomed).returning({ id: sessions.id }),
      ]);
      return deleted?.length ?? 0;
    },

    async updateCount(update) {
      return (await update.returning({ id: sessions.id })).length;
    },
  };
}
