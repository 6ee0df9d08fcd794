import { coalesced } from "../coalesce.js";
import type { Rotation } from "../store.js";
import { type MysqlRotationBatch, mysqlRotationBatch } from "./mysql-rotation-batch.js";
import {
  postgresRotationBatch,
  type RotationBatch,
  type SessionsTableNames,
} from "./postgres-rotation-batch.js";

/**
 * The shape of a rotation, as a key: what decides its SQL — whether `clientId` is given,
 * whether `bindingKey` is given and `null`, whether `dpopJkt` is `null`. Rotations of one shape
 * share one statement.
 *
 * @example
 * ```ts
 * import { rotationShape } from "@tokens/core/sql";
 *
 * const statement = statements.get(rotationShape(rotation)) ?? build(rotation);
 * ```
 */
export function rotationShape(rotation: Rotation): string {
  const binding =
    rotation.bindingKey === undefined ? "any" : rotation.bindingKey === null ? "unbound" : "bound";
  return `${rotation.clientId === undefined ? "any" : "client"}-${binding}-${
    rotation.dpopJkt === null ? "unproved" : "proved"
  }`;
}

type Rotate<A> = (rotation: Rotation) => Promise<A | null>;

/** A rotate that sends each rotation to the one `make` built for its shape (built on first use). */
function byShape<A>(make: (shape: Rotation) => Rotate<A>): Rotate<A> {
  const shapes = new Map<string, Rotate<A>>();
  return (rotation) => {
    const key = rotationShape(rotation);
    let rotate = shapes.get(key);
    if (!rotate) {
      rotate = make(rotation);
      shapes.set(key, rotate);
    }
    return rotate(rotation);
  };
}

const bySessionId = (a: Rotation, b: Rotation) =>
  a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : 0;

/**
 * `rotate` for a PostgreSQL store, batched: the rotations of one shape that arrive in one turn of
 * the event loop (see {@link coalesced}) run as one {@link postgresRotationBatch}, in the order of
 * their session ids, so that two batches sharing rows lock them in the same order. `execute`
 * runs a batch's statement with its parameters and resolves its rows (arrays: the ordinal, then
 * the {@link UNCHANGED_BY_ROTATION} columns). Each call resolves its row's columns after the
 * ordinal, or `null` when its compare-and-set matched nothing. When `execute` rejects with an
 * error for which `isolate` is true (the server refused the statement, and another rotation of
 * the batch may be the cause), each rotation of the batch runs again alone, so one rotation's
 * failure is its own; any other error rejects the whole batch's calls.
 *
 * @example
 * ```ts
 * import { postgresBatchedRotate } from "@tokens/core/sql";
 *
 * const rotate = postgresBatchedRotate(
 *   { table: "tokens_sessions", column: snakeCase },
 *   async (batch, values) => (await pool.query({ text: batch.text, values, rowMode: "array" })).rows,
 *   (error) => typeof error.code === "string",
 * );
 * const row = await rotate(rotation); // the unchanged columns, or null
 * ```
 */
export function postgresBatchedRotate(
  names: SessionsTableNames,
  execute: (batch: RotationBatch, values: unknown[][]) => Promise<ArrayLike<unknown>[]>,
  isolate: (error: unknown) => boolean,
): (rotation: Rotation) => Promise<unknown[] | null> {
  const forShape = (shape: Rotation) => {
    const batch = postgresRotationBatch(shape, names);
    const run = async (
      rotations: Rotation[],
    ): Promise<Array<unknown[] | null | Promise<unknown[] | null>>> => {
      const sorted = rotations.slice().sort(bySessionId);
      let rows: ArrayLike<unknown>[];
      try {
        rows = await execute(batch, batch.values(sorted));
      } catch (error) {
        if (rotations.length === 1 || !isolate(error)) throw error;
        return rotations.map(async (rotation) => (await run([rotation]))[0] ?? null);
      }
      const answers = new Map<Rotation, unknown[]>();
      for (const row of rows) {
        const rotation = sorted[Number(row[0]) - 1];
        if (rotation) answers.set(rotation, Array.prototype.slice.call(row, 1));
      }
      return rotations.map((rotation) => answers.get(rotation) ?? null);
    };
    return coalesced(run);
  };
  return byShape(forShape);
}

/** What {@link mysqlBatchedRotate} runs on: the store's own paths for one and for many rotations. */
export interface MysqlBatchIo<A> {
  /** One rotation as the store runs it alone: its answer, or `null` when refused. */
  alone(rotation: Rotation): Promise<A | null>;
  /** A rotated row's {@link UNCHANGED_BY_ROTATION} columns (as `read` returned them) as an answer. */
  answer(unchanged: unknown[]): A;
  /**
   * Runs `update` then `read` in one transaction and resolves `read`'s rows (arrays, text as
   * strings); rolls back and rejects on any failure.
   */
  inTransaction(
    update: MysqlRotationBatch["update"],
    read: MysqlRotationBatch["read"],
  ): Promise<ArrayLike<unknown>[]>;
  /** Whether the server refused the batch for a reason one of its rotations may cause alone. */
  isolate(error: unknown): boolean;
}

/**
 * `rotate` for a MySQL/MariaDB store, batched: the rotations of one shape that arrive in one
 * turn of the event loop (see {@link coalesced}) run as one {@link mysqlRotationBatch} in one
 * transaction, sorted by session id; a rotation that arrives alone runs as `io.alone`. Of two
 * rotations of one session in a batch, the later runs alone after it (and finds the session
 * moved on, unless the first was refused). When `io.inTransaction` rejects with an error for
 * which `io.isolate` is true, each rotation runs again alone; any other error rejects the whole
 * batch's calls.
 *
 * @example
 * ```ts
 * import { mysqlBatchedRotate } from "@tokens/core/sql";
 *
 * const rotate = mysqlBatchedRotate({ table: "tokens_sessions", column: snakeCase }, io);
 * const row = await rotate(rotation); // the unchanged columns, or null
 * ```
 */
export function mysqlBatchedRotate<A>(
  names: SessionsTableNames,
  io: MysqlBatchIo<A>,
): (rotation: Rotation) => Promise<A | null> {
  const run = async (rotations: Rotation[]): Promise<Array<A | null | Promise<A | null>>> => {
    if (rotations.length === 1) return rotations.map(io.alone);
    const first = new Map<string, Rotation>();
    for (const rotation of rotations) {
      if (!first.has(rotation.sessionId)) first.set(rotation.sessionId, rotation);
    }
    const sorted = [...first.values()].sort(bySessionId);
    const batch = mysqlRotationBatch(sorted, names);
    let rows: ArrayLike<unknown>[];
    try {
      rows = await io.inTransaction(batch.update, batch.read);
    } catch (error) {
      if (!io.isolate(error)) throw error;
      return rotations.map(io.alone);
    }
    const answers = new Map(batch.answers(rows).map((columns, i) => [sorted[i], columns]));
    return rotations.map((rotation) => {
      if (!answers.has(rotation)) return io.alone(rotation);
      const columns = answers.get(rotation);
      return columns ? io.answer(columns) : null;
    });
  };
  return byShape(() => coalesced(run));
}
