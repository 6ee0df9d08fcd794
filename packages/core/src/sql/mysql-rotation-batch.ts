import type { Rotation, SessionRecord } from "../store.js";
import { type SessionsTableNames, UNCHANGED_BY_ROTATION } from "./postgres-rotation-batch.js";

/** Rotations of one shape, with distinct sessions, as MySQL statements. */
export interface MysqlRotationBatch {
  /** The compare-and-set of every rotation: one multi-row `UPDATE` by primary key. */
  update: { sql: string; values: unknown[] };
  /** The rows of those sessions, read after the `UPDATE` in its transaction. */
  read: { sql: string; values: unknown[] };
  /** Each rotation's {@link UNCHANGED_BY_ROTATION} columns from `read`'s rows, or `null`. */
  answers(rows: ArrayLike<unknown>[]): Array<unknown[] | null>;
}

// DATETIME(3) text in UTC: the stores keep instants in UTC.
const utc = (at: Date) => at.toISOString().replace("T", " ").replace("Z", "");

/**
 * Rotations of one shape (see `rotationShape`), each of another session and sorted by session
 * id, as MySQL/MariaDB statements to run in one transaction: one `UPDATE … WHERE id IN (…)`
 * whose every value and condition is the row's own (`CASE id WHEN … THEN …`), so each row is
 * the single-row compare-and-set of {@link TokenStore.rotate}; then a read of those rows, in
 * which a row holds this batch's successor hash exactly when its rotation took effect (the
 * transaction holds the rows' locks, so nothing has moved them since). Every value is a
 * parameter: no comparison mixes a column's collation with another.
 *
 * @example
 * ```ts
 * import { mysqlRotationBatch } from "@tokens/core/sql";
 *
 * const batch = mysqlRotationBatch(rotations, { table: "tokens_sessions", column: snakeCase });
 * await tx.execute(batch.update.sql, batch.update.values);
 * const answers = batch.answers(await tx.query(batch.read.sql, batch.read.values));
 * ```
 */
export function mysqlRotationBatch(
  rotations: readonly Rotation[],
  names: SessionsTableNames,
): MysqlRotationBatch {
  const [shape] = rotations;
  if (!shape) throw new RangeError("a batch of no rotations");
  const quote = (name: string) => `\`${name.replaceAll("`", "``")}\``;
  const column = (field: keyof SessionRecord) => quote(names.column(field));
  const id = column("id");
  const values: unknown[] = [];
  /** The rotation's own value of `read`, for the row being updated or tested. */
  const own = (read: (rotation: Rotation) => unknown, instant = false) => {
    for (const rotation of rotations) values.push(rotation.sessionId, read(rotation));
    const then = instant ? "CAST(? AS DATETIME(3))" : "?";
    return `CASE ${id} ${rotations.map(() => `WHEN ? THEN ${then}`).join(" ")} END`;
  };
  const rotatedAt = (rotation: Rotation) => utc(rotation.rotatedAt);
  const set = [
    `${column("generation")} = ${own((r) => r.generation)}`,
    `${column("previousHash")} = ${own((r) => r.expectedHash)}`,
    `${column("currentHash")} = ${own((r) => r.successorHash)}`,
    `${column("sealedSuccessor")} = ${own((r) => r.sealedSuccessor)}`,
    `${column("rotatedAt")} = ${own(rotatedAt, true)}`,
    `${column("lastUsedAt")} = ${own(rotatedAt, true)}`,
    `${column("idleExpiresAt")} = LEAST(${own((r) => utc(r.idleExpiresAt), true)}, ${column("expiresAt")})`,
    `${column("purgeAfter")} = LEAST(${own((r) => utc(r.purgeAfter), true)}, ${column("expiresAt")})`,
  ];
  const ids = rotations.map(() => "?").join(", ");
  values.push(...rotations.map((rotation) => rotation.sessionId));
  const where = [
    `${id} IN (${ids})`,
    `${column("currentHash")} = ${own((r) => r.expectedHash)}`,
    `${column("revokedAt")} IS NULL`,
    `${column("expiresAt")} > ${own(rotatedAt, true)}`,
    `${column("idleExpiresAt")} > ${own(rotatedAt, true)}`,
  ];
  if (shape.clientId !== undefined) {
    where.push(`${column("clientId")} = ${own((r) => r.clientId)}`);
  }
  if (shape.bindingKey === null) where.push(`${column("bindingKey")} IS NULL`);
  else if (shape.bindingKey !== undefined) {
    where.push(`${column("bindingKey")} = ${own((r) => r.bindingKey)}`);
  }
  where.push(
    shape.dpopJkt === null
      ? `${column("dpopJkt")} IS NULL`
      : `(${column("dpopJkt")} IS NULL OR ${column("dpopJkt")} = ${own((r) => r.dpopJkt)})`,
  );
  const table = names.schema ? `${quote(names.schema)}.${quote(names.table)}` : quote(names.table);
  const selected = [id, column("currentHash"), ...UNCHANGED_BY_ROTATION.map(column)].join(", ");
  return {
    update: {
      sql: `UPDATE ${table} SET ${set.join(", ")} WHERE ${where.join(" AND ")}`,
      values,
    },
    read: {
      sql: `SELECT ${selected} FROM ${table} WHERE ${id} IN (${ids})`,
      values: rotations.map((rotation) => rotation.sessionId),
    },
    answers(rows) {
      const bySession = new Map(rows.map((row) => [String(row[0]), row]));
      return rotations.map((rotation) => {
        const row = bySession.get(rotation.sessionId);
        return row && String(row[1]) === rotation.successorHash
          ? Array.prototype.slice.call(row, 2)
          : null;
      });
    },
  };
}
