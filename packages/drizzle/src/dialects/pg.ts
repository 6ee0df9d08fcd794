import type { LiveRotation } from "@tokens/core";
import { fillPlaceholders, getTableColumns, inArray } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import type { PgTokensTables } from "../schema/pg.js";
import {
  byShape,
  type DialectOps,
  driverError,
  endedBefore,
  liveRotationChanges,
  liveRotationTarget,
  liveSuccessorSelection,
  type Row,
  rotationChanges,
  rotationTarget,
  sessionRow,
  successorSelection,
  type Tables,
  tokenRow,
} from "../shared.js";
import { pgliteClient, pgliteStatement } from "./pglite.js";

/**
 * A Drizzle PostgreSQL database of any driver (node-postgres, postgres-js, PGlite, …), whatever
 * its schema.
 *
 * @example
 * ```ts
 * import type { AnyPgDatabase } from "@tokens/drizzle";
 * import { drizzle } from "drizzle-orm/node-postgres";
 *
 * const db: AnyPgDatabase = drizzle(process.env.DATABASE_URL!);
 * ```
 */
export type AnyPgDatabase = PgDatabase<PgQueryResultHKT, Record<string, unknown>>;

/**
 * The name of the prepared statement whose SQL text is `text`: `tokens_` and the text's 64-bit
 * FNV-1a hash. Identical text (another store over the same tables) shares the name; different
 * text never takes another's, which node-postgres refuses per connection — and which a pooler
 * that leaks statements between clients would otherwise run in its place. FNV rather than
 * SHA-256: no crypto API is common to every runtime of the PostgreSQL drivers, and it runs once
 * per statement.
 */
function statementName(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) {
    hash = BigInt.asUintN(64, (hash ^ BigInt(byte)) * 0x100000001b3n);
  }
  return `tokens_${hash.toString(16).padStart(16, "0")}`;
}

/**
 * Whether `error` says a named statement is not where the driver believes: 26000 (the server
 * lacks it — a pooler moved the client to another server connection, or dropped it) or 42P05
 * (the server has it already, from another client of a pooler). Both fail at Parse or Bind, so
 * nothing of the statement ran.
 */
function statementLost(error: unknown): boolean {
  const code = (driverError(error) as { code?: unknown } | null | undefined)?.code;
  return code === "26000" || code === "42P05";
}

/**
 * PostgreSQL runs every multi-row write as ONE statement with data-modifying CTEs: atomic
 * without an interactive transaction, so no connection is held across round trips and a lost
 * connection can never leave half a write behind.
 *
 * `named`: run the refresh as a named prepared statement (see `preparedStatements` of
 * `drizzleStore`).
 */
export function pgOps(db: AnyPgDatabase, tables: PgTokensTables, named = true): DialectOps {
  const t = tables as unknown as Tables;
  const { sessions, tokens } = tables;
  const pglite = pgliteClient(db);

  /**
   * `rotateLive` as one statement, as `rotate`: the UPDATE's row lock serializes concurrent
   * callers, and a loser re-checks the WHERE against the winner's row, matches nothing and
   * inserts nothing. Prepared once per shape, so no refresh rebuilds the query; and, `named`,
   * as a server-side statement, so no refresh pays PostgreSQL's parse and plan either (a large
   * part of the statement's cost). Drivers that take no name (postgres-js, which follows its
   * own `prepare` option) ignore it; PGlite, whose driver is one of them, gets the statement
   * through its protocol API instead (see `pgliteStatement`).
   */
  const liveStatement = (rotation: LiveRotation) => {
    const rotated = db
      .$with("rotated")
      .as(
        db
          .update(sessions)
          .set(liveRotationChanges(t, rotation))
          .where(liveRotationTarget(t, rotation))
          .returning(),
      );
    const successor = db.$with("successor").as(
      db
        .insert(tokens)
        .select(
          db
            .select(
              liveSuccessorSelection(t, rotation, {
                id: rotated.id,
                generation: rotated.generation,
              }) as never,
            )
            .from(rotated),
        )
        .returning({ hash: tokens.hash }),
    );
    const query = db.with(rotated, successor).select().from(rotated);
    const { sql: text, params } = query.toSQL();
    const name = named ? statementName(text) : "";
    const prepared = query.prepare(name);
    const viaDriver = async (values: Record<string, unknown>) =>
      (await prepared.execute(values))[0] as Row | undefined;
    if (!named || !pglite) return viaDriver;
    const direct = pgliteStatement(pglite, name, text, Object.keys(getTableColumns(sessions)));
    return async (values: Record<string, unknown>) => {
      const read = await direct(fillPlaceholders(params, values));
      return read === null ? viaDriver(values) : read;
    };
  };
  /** The statements by shape, named or not as `named` was when they were built. */
  const live = byShape(liveStatement);
  const execute = (rotation: LiveRotation) =>
    live.for(rotation)(rotation as unknown as Record<string, unknown>);

  return {
    async createSession(session, token) {
      // PostgreSQL runs a data-modifying CTE to completion even though nothing reads it, and
      // checks the token's foreign key at the end of the statement, when the session exists.
      const created = db
        .$with("created")
        .as(db.insert(sessions).values(sessionRow(session)).returning({ id: sessions.id }));
      await db.with(created).insert(tokens).values(tokenRow(token));
    },

    async rotate(rotation) {
      // Under READ COMMITTED a concurrent UPDATE of the same row waits for the first to commit,
      // then re-checks the WHERE against the new row: exactly one caller's CTE yields the row.
      const spent = db
        .$with("spent")
        .as(
          db
            .update(sessions)
            .set(rotationChanges(t, rotation))
            .where(rotationTarget(t, rotation))
            .returning({ id: sessions.id }),
        );
      const inserted = await db
        .with(spent)
        .insert(tokens)
        // Typed casts in SQL make the selection match the columns; Drizzle's types cannot see it.
        .select(db.select(successorSelection(t, rotation, spent.id) as never).from(spent))
        .returning({ hash: tokens.hash });
      return inserted.length === 1;
    },

    async rotateLive(rotation) {
      const wasNamed = named;
      try {
        return await execute(rotation);
      } catch (error) {
        if (!wasNamed || !statementLost(error)) throw error;
        // A pooler that does not keep named statements (PgBouncer < 1.21 in transaction mode,
        // some proxies): nothing ran, so run it again unnamed, as every later refresh will.
        if (named) {
          named = false;
          live.clear();
        }
        return execute(rotation);
      }
    },

    async purge(before, limit) {
      // SKIP LOCKED: a session another transaction holds is left for the next batch instead of
      // making purge wait behind it.
      const doomed = db
        .$with("doomed")
        .as(
          db
            .select({ id: sessions.id })
            .from(sessions)
            .where(endedBefore(t, before))
            .limit(limit)
            .for("update", { skipLocked: true }),
        );
      const doomedIds = db.select({ id: doomed.id }).from(doomed);
      const tokensGone = db
        .$with("tokens_gone")
        .as(db.delete(tokens).where(inArray(tokens.sessionId, doomedIds)));
      const deleted = await db
        .with(doomed, tokensGone)
        .delete(sessions)
        .where(inArray(sessions.id, doomedIds))
        .returning({ id: sessions.id });
      return deleted.length;
    },

    async updateCount(update) {
      return (await update.returning({ id: sessions.id })).length;
    },
  };
}
