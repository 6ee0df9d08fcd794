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

/** A store's `rotate`, answering with `A`. */
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

/** What a batched `rotate` runs on besides its batch statement: the store's own parts. */
export interface BatchIo<A> {
  /** One rotation as the store runs it alone: its answer, or `null` when refused. */
  alone(rotation: Rotation): Promise<A | null>;
  /** A rotated row's {@link UNCHANGED_BY_ROTATION} columns, as the batch returned them, as an answer. */
  answer(unchanged: unknown[]): A;
  /** Whether the database refused a batch for a reason one of its rotations may cause alone. */
  isolate(error: unknown): boolean;
}

/**
 * The batching both dialects share: per shape, the rotations of one turn of the event loop (see
 * {@link coalesced}); a rotation that arrives alone runs as `io.alone`; of several, the first of
 * each session, sorted by session id (so two batches sharing rows lock them in the same order),
 * go to `batch`, which resolves the unchanged columns of each rotation that took effect, and a
 * later rotation of a session already in the batch runs alone after it (finding the session
 * moved on, unless the first was refused). A batch refused for a reason `io.isolate` accepts
 * runs again rotation by rotation, so one rotation's failure is its own; any other error
 * rejects the whole batch's calls.
 */
function batchedRotate<A>(
  io: BatchIo<A>,
  batch: (sorted: Rotation[]) => Promise<Map<Rotation, unknown[]>>,
): Rotate<A> {
  const run = async (rotations: Rotation[]): Promise<Array<A | null | Promise<A | null>>> => {
    if (rotations.length === 1) return rotations.map(io.alone);
    const first = new Map<string, Rotation>();
    for (const rotation of rotations) {
      if (!first.has(rotation.sessionId)) first.set(rotation.sessionId, rotation);
    }
    let rotated: Map<Rotation, unknown[]>;
    try {
      rotated = await batch([...first.values()].sort(bySessionId));
    } catch (error) {
      if (!io.isolate(error)) throw error;
      return rotations.map(io.alone);
    }
    return rotations.map((rotation) => {
      if (first.get(rotation.sessionId) !== rotation) return io.alone(rotation);
      const columns = rotated.get(rotation);
      return columns ? io.answer(columns) : null;
    });
  };
  return byShape(() => coalesced(run));
}

/**
 * `rotate` for a PostgreSQL store, batched (see {@link batchedRotate}): several rotations of one
 * shape run as one {@link postgresRotationBatch}. `io.execute` runs a batch's statement with its
 * parameters and resolves its rows (arrays: the ordinal, then the {@link UNCHANGED_BY_ROTATION}
 * columns).
 *
 * @example
 * ```ts
 * import { postgresBatchedRotate } from "@tokens/core/sql";
 *
 * const rotate = postgresBatchedRotate(
 *   { table: "tokens_sessions", column: snakeCase },
 *   {
 *     alone: rotateOne, // the store's single-row UPDATE … RETURNING
 *     answer: (columns) => columns,
 *     execute: async (batch, values) =>
 *       (await pool.query({ text: batch.text, values, rowMode: "array" })).rows,
 *     isolate: (error) => typeof error.code === "string",
 *   },
 * );
 * const row = await rotate(rotation); // the answer, or null
 * ```
 */
export function postgresBatchedRotate<A>(
  names: SessionsTableNames,
  io: BatchIo<A> & {
    execute(batch: RotationBatch, values: unknown[][]): Promise<ArrayLike<unknown>[]>;
  },
): Rotate<A> {
  const statements = new Map<string, RotationBatch>();
  return batchedRotate(io, async (sorted) => {
    const [shape] = sorted as [Rotation];
    const key = rotationShape(shape);
    let statement = statements.get(key);
    if (!statement) {
      statement = postgresRotationBatch(shape, names);
      statements.set(key, statement);
    }
    const rows = await io.execute(statement, statement.values(sorted));
    const rotated = new Map<Rotation, unknown[]>();
    for (const row of rows) {
      const rotation = sorted[Number(row[0]) - 1];
      if (rotation) rotated.set(rotation, Array.prototype.slice.call(row, 1));
    }
    return rotated;
  });
}

/**
 * `rotate` for a MySQL/MariaDB store, batched (see {@link batchedRotate}): several rotations of
 * one shape run as one {@link mysqlRotationBatch} in one transaction. `io.inTransaction` runs
 * `update` then `read` in one transaction and resolves `read`'s rows (arrays, text as strings),
 * or rolls back and rejects on any failure.
 *
 * @example
 * ```ts
 * import { mysqlBatchedRotate } from "@tokens/core/sql";
 *
 * const rotate = mysqlBatchedRotate({ table: "tokens_sessions", column: snakeCase }, io);
 * const row = await rotate(rotation); // the answer, or null
 * ```
 */
export function mysqlBatchedRotate<A>(
  names: SessionsTableNames,
  io: BatchIo<A> & {
    inTransaction(
      update: MysqlRotationBatch["update"],
      read: MysqlRotationBatch["read"],
    ): Promise<ArrayLike<unknown>[]>;
  },
): Rotate<A> {
  return batchedRotate(io, async (sorted) => {
    const batch = mysqlRotationBatch(sorted, names);
    const answers = batch.answers(await io.inTransaction(batch.update, batch.read));
    const rotated = new Map<Rotation, unknown[]>();
    answers.forEach((columns, i) => {
      if (columns) rotated.set(sorted[i] as Rotation, columns);
    });
    return rotated;
  });
}
