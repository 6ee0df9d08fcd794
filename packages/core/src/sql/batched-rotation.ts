import { coalesced } from "../coalesce.js";
import type { Rotation } from "../store.js";
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
  const shapes = new Map<string, (rotation: Rotation) => Promise<unknown[] | null>>();
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
  return (rotation) => {
    const key = rotationShape(rotation);
    let rotate = shapes.get(key);
    if (!rotate) {
      rotate = forShape(rotation);
      shapes.set(key, rotate);
    }
    return rotate(rotation);
  };
}
