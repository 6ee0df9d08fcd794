import { ConfigurationError, type LiveRotation } from "@tokens/core";
import {
  eq,
  fillPlaceholders,
  inArray,
  Param,
  SQL,
  type SQLChunk,
  type SQLWrapper,
  StringChunk,
} from "drizzle-orm";
import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";
import type { SQLiteTokensTables } from "../schema/sqlite.js";
import {
  byShape,
  type DialectOps,
  liveRotationChanges,
  liveRotationTarget,
  liveSuccessorSelection,
  purgeCandidates,
  type Queries,
  type Row,
  rotationChanges,
  rotationTarget,
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

/** A statement of Drizzle's query builder, as {@link Runner.reusable} takes it. */
interface Builder extends Step, SQLWrapper {
  toSQL(): { sql: string; params: unknown[] };
  prepare(): { all(values: Record<string, unknown>): unknown };
}

/** How the driver runs statements as one transaction, and runs one many times. */
interface Runner {
  /** Run `steps` as one transaction; resolves each one's rows. */
  atomic(steps: Step[]): Promise<unknown[][]>;
  /**
   * `query`, built with placeholders, as a step to run with any values: Drizzle builds a
   * query's SQL from its parts each time it runs it, which on libsql costs a quarter of a
   * refresh's CPU time. This builds it once.
   */
  reusable(query: Builder): (values: Record<string, unknown>) => Step;
}

/**
 * SQLite allows one writer at a time, so a write transaction is already serial; what matters is
 * never holding it across the event loop. Drivers with `batch` (libsql, D1) send the statements
 * at once; synchronous drivers (better-sqlite3) run them inside a native transaction that cannot
 * yield. Both beat an interactive transaction, which on libsql would pin one pooled connection
 * per concurrent call.
 */
function runner(db: AnySQLiteDatabase): Runner {
  const batching = db as unknown as { batch?: (steps: Step[]) => Promise<unknown[][]> };
  if (typeof batching.batch === "function") {
    const batch = batching.batch.bind(db);
    return { atomic: (steps) => batch(steps), reusable: withBuiltSql };
  }
  const sync = db as unknown as {
    resultKind?: string;
    transaction<T>(run: () => T, config: { behavior: "immediate" }): T;
  };
  if (sync.resultKind === "sync") {
    return {
      atomic: async (steps) =>
        sync.transaction(() => steps.map((step) => step.all() as unknown[]), {
          behavior: "immediate",
        }),
      // Synchronous drivers run a prepared query inside the transaction, and keep its
      // statement compiled too.
      reusable: (query) => {
        const prepared = query.prepare();
        return (values) => ({ all: () => prepared.all(values) });
      },
    };
  }
  throw new ConfigurationError(
    "drizzleStore: this SQLite driver has neither batch() nor synchronous transactions; use libsql, D1 or better-sqlite3",
  );
}

/**
 * {@link Runner.reusable} for `batch`, which takes no prepared query (and on D1 no raw SQL with
 * parameters either): the query's finished SQL is kept cut at its parameters (SQLite's `?`,
 * outside quoted names), and each run hands the batch the query itself with `getSQL` answering
 * that text with the values between the cuts — the SQL that Drizzle would build, so it prepares,
 * runs and reads the statement as usual.
 */
function withBuiltSql(query: Builder): (values: Record<string, unknown>) => Step {
  const { sql: text, params } = query.toSQL();
  const cuts: StringChunk[] = [];
  let quote: string | undefined;
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quote) {
      if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") {
      quote = char;
    } else if (char === "?") {
      cuts.push(new StringChunk(text.slice(from, i)));
      from = i + 1;
    }
  }
  cuts.push(new StringChunk(text.slice(from)));
  if (cuts.length !== params.length + 1) {
    throw new ConfigurationError(
      "drizzleStore: this drizzle-orm writes SQLite parameters other than as `?`; use drizzle-orm 0.44 or later below 1",
    );
  }
  return (values) => {
    const chunks: SQLChunk[] = [cuts[0] as StringChunk];
    fillPlaceholders(params, values).forEach((value, i) => {
      chunks.push(new Param(value), cuts[i + 1] as StringChunk);
    });
    const built = new SQL(chunks);
    return Object.create(query, { getSQL: { value: () => built } }) as Step;
  };
}

/** SQLite: each multi-row write is one atomic batch of statements that do not depend on each other. */
export function sqliteOps(db: AnySQLiteDatabase, tables: SQLiteTokensTables): DialectOps {
  const t = tables as unknown as Tables;
  const queries = db as unknown as Queries;
  const { sessions, tokens } = tables;
  const { atomic, reusable } = runner(db);

  /**
   * `rotateLive`'s statements for one shape of rotation (see `byShape`). One write
   * transaction: the UPDATE is the compare-and-set; the INSERT finds the session by the
   * successor hash it now names, so it inserts only when the UPDATE rotated.
   */
  const liveStatements = (rotation: LiveRotation) => ({
    update: reusable(
      db
        .update(sessions)
        .set(liveRotationChanges(t, rotation))
        .where(liveRotationTarget(t, rotation))
        .returning(),
    ),
    insert: reusable(
      db
        .insert(tokens)
        .select(
          db
            .select(liveSuccessorSelection(t, rotation, sessions) as never)
            .from(sessions)
            .where(eq(sessions.currentHash, rotation.successorHash)),
        )
        .returning({ hash: tokens.hash }),
    ),
  });
  const live = byShape(liveStatements);

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
      const statements = live.for(rotation);
      const values = rotation as unknown as Record<string, unknown>;
      const [rotated] = await atomic([statements.update(values), statements.insert(values)]);
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
