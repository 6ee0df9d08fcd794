import type { Rotation } from "@tokens/core";
import { postgresBatchedRotate } from "@tokens/core/sql";
import { inArray } from "drizzle-orm";
import { getTableConfig, type PgDatabase, type PgQueryResultHKT } from "drizzle-orm/pg-core";
import type { PgTokensTables } from "../schema/pg.js";
import {
  byShape,
  type DialectOps,
  driverClient,
  driverError,
  endedIds,
  parameterValues,
  type Queries,
  ROTATION_RESULT,
  type Row,
  rotationResult,
  rotationResultColumns,
  rotationRow,
  rotationUpdate,
  type Tables,
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
 * Whether the server refused the statement itself (it has an SQLSTATE) for a reason other than a
 * conflict or a lost prepared statement, which every caller retries on its own anyway: nothing
 * of it ran, and another rotation of the batch may be the cause.
 */
function refusedStatement(error: unknown): boolean {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return (
    typeof code === "string" &&
    /^[0-9A-Z]{5}$/.test(code) &&
    !transient(error) &&
    !statementLost(error)
  );
}

/** The part of a node-postgres pool or client the rotation uses. */
interface NodePgQueryable {
  query(config: {
    name: string;
    text: string;
    values: unknown[];
    rowMode: "array";
    types: { getTypeParser(): (value: string) => string };
  }): Promise<{ rows: unknown[][] }>;
}

/** Every column as the text PostgreSQL sent: `rotationResult` reads text (and `Date`) alike. */
const asText = { getTypeParser: () => (value: string) => value };

/** The rotation's `UPDATE … RETURNING`, built; prepared by {@link pgOps}. */
interface Returning {
  returning(fields: Record<string, unknown>): {
    toSQL(): { sql: string; params: unknown[] };
    prepare(name: string): { execute(values: Record<string, unknown>): Promise<unknown[]> };
  };
}

/**
 * Conflicts that abort a statement and may not recur: 40001 (serialization failure, under a
 * stricter isolation level than the default), 40P01 (deadlock detected).
 */
function transient(error: unknown): boolean {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return code === "40001" || code === "40P01";
}

/**
 * PostgreSQL: a rotation is one `UPDATE … RETURNING` of the session row by primary key, and
 * purge one `DELETE` with `FOR UPDATE SKIP LOCKED`: atomic without an interactive transaction,
 * so no connection is held across round trips.
 *
 * `named`: run the refresh as a named prepared statement (see `preparedStatements` of
 * `drizzleStore`).
 */
export function pgOps(db: AnyPgDatabase, tables: PgTokensTables, named = true): DialectOps {
  const t = tables as unknown as Tables;
  const { sessions } = tables;
  const queries = db as unknown as Queries;
  const pglite = pgliteClient(db);
  const nodePg = driverClient<NodePgQueryable>(db, "NodePgSession", "query");

  /**
   * The rotation of one shape as one statement: the UPDATE's row lock serializes concurrent
   * callers, and a loser re-checks the WHERE against the winner's row and matches nothing. It
   * changes no indexed column, so on a table with free space in its pages (the migration's
   * `fillfactor`) PostgreSQL writes the new row version on the same page and no index entry: a
   * heap-only tuple update. Prepared once per shape, so no refresh rebuilds the query; and,
   * `named`, as a server-side statement, so no refresh pays PostgreSQL's parse and plan either.
   * Drivers that take no name (postgres-js, which follows its own `prepare` option) ignore it;
   * PGlite, whose driver is one of them, gets the statement through its protocol API instead
   * (see `pgliteStatement`).
   */
  const statement = (shape: Rotation): ((rotation: Rotation) => Promise<Row | undefined>) => {
    const query = (rotationUpdate(queries, t, shape) as unknown as Returning).returning(
      rotationResultColumns(t),
    );
    const { sql: text, params } = query.toSQL();
    const name = named ? statementName(text) : "";
    const values = parameterValues(params);
    if (nodePg) {
      // node-postgres itself (see driverClient): the same statement, one object per call.
      return async (rotation) => {
        const config = { name, text, values: values(rotation), rowMode: "array" as const };
        const [row] = (await nodePg.query({ ...config, types: asText })).rows;
        return row && rotationRow(row);
      };
    }
    const prepared = query.prepare(name);
    const viaDriver = async (rotation: Rotation) =>
      (await prepared.execute(rotation as unknown as Record<string, unknown>))[0] as
        | Row
        | undefined;
    if (!named || !pglite) return viaDriver;
    const direct = pgliteStatement(pglite, name, text, [...ROTATION_RESULT]);
    return async (rotation) => {
      const read = await direct(values(rotation));
      return read === null ? viaDriver(rotation) : read;
    };
  };
  /** The statements by shape, named or not as `named` was when they were built. */
  const statements = byShape(statement);
  /** One rotation alone: its statement by shape. */
  const alone = async (rotation: Rotation) => (await statements.for(rotation)(rotation)) ?? null;
  /**
   * On node-postgres itself (see `driverClient`), the rotations that arrive together go as one
   * statement (see `postgresBatchedRotate`), named or not as `named` is when each batch runs; a
   * rotation that arrives alone goes as its own statement, which costs the server less.
   */
  const { name: table, schema } = getTableConfig(sessions);
  const rotate = nodePg
    ? postgresBatchedRotate(
        { table, schema, column: (field) => t.sessions[field].name },
        {
          alone,
          answer: rotationRow,
          async execute(batch, values) {
            const name = named ? statementName(batch.text) : "";
            const config = { name, text: batch.text, values, rowMode: "array" as const };
            return (await nodePg.query({ ...config, types: asText })).rows;
          },
          isolate: refusedStatement,
        },
      )
    : alone;
  const execute = async (rotation: Rotation) => {
    const row = await rotate(rotation);
    return row ? rotationResult(row, rotation) : null;
  };

  return {
    async rotate(rotation) {
      const wasNamed = named;
      try {
        return await execute(rotation);
      } catch (error) {
        if (!wasNamed || !statementLost(error)) throw error;
        // A pooler that does not keep named statements (PgBouncer < 1.21 in transaction mode,
        // some proxies): nothing ran, so run it again unnamed, as every later refresh will.
        if (named) {
          named = false;
          statements.clear();
        }
        return execute(rotation);
      }
    },

    async purge(before, limit) {
      // SKIP LOCKED: a session another transaction holds (a rotation, a revocation) is left for
      // the next batch instead of making purge wait behind it.
      const doomed = (
        endedIds(queries, t, before, limit) as unknown as {
          for(strength: "update", config: { skipLocked: true }): unknown;
        }
      ).for("update", { skipLocked: true });
      const deleted = await db
        .delete(sessions)
        .where(inArray(sessions.id, doomed as never))
        .returning({ id: sessions.id });
      return deleted.length;
    },

    async updateCount(update) {
      return (await update.returning({ id: sessions.id })).length;
    },

    transient,
  };
}
