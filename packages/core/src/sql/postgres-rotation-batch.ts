import type { UnchangedByRotation } from "../session-fields.js";
import type { Rotation, SessionRecord } from "../store.js";

/**
 * The columns a rotation must read back, in the order {@link postgresRotationBatch} returns them
 * (after the ordinal).
 *
 * @example
 * ```ts
 * import { UNCHANGED_BY_ROTATION } from "@tokens/core/sql";
 *
 * const unchanged = Object.fromEntries(UNCHANGED_BY_ROTATION.map((key, i) => [key, row[i + 1]]));
 * ```
 */
export const UNCHANGED_BY_ROTATION = [
  "subject",
  "clientId",
  "createdAt",
  "expiresAt",
  "client",
  "bindingKey",
  "claims",
  "dpopJkt",
] as const satisfies ReadonlyArray<keyof UnchangedByRotation>;

/** The PostgreSQL array type of one parameter of {@link postgresRotationBatch}. */
export type PostgresArrayType = "text" | "int4" | "timestamptz";

/** A parameter of the batch: one value per rotation, of one array type. */
interface Field {
  key: keyof Rotation;
  type: PostgresArrayType;
  value(rotation: Rotation): string | number | null;
}

// Instants as ISO text with its `Z`: PostgreSQL reads them the same whatever the session's TimeZone.
const iso = (at: Date) => at.toISOString();
const FIELDS: Field[] = [
  { key: "sessionId", type: "text", value: (r) => r.sessionId },
  { key: "expectedHash", type: "text", value: (r) => r.expectedHash },
  { key: "successorHash", type: "text", value: (r) => r.successorHash },
  { key: "generation", type: "int4", value: (r) => r.generation },
  { key: "sealedSuccessor", type: "text", value: (r) => r.sealedSuccessor },
  { key: "rotatedAt", type: "timestamptz", value: (r) => iso(r.rotatedAt) },
  { key: "idleExpiresAt", type: "timestamptz", value: (r) => iso(r.idleExpiresAt) },
  { key: "purgeAfter", type: "timestamptz", value: (r) => iso(r.purgeAfter) },
];
const CLIENT: Field = { key: "clientId", type: "text", value: (r) => r.clientId ?? null };
const BINDING: Field = { key: "bindingKey", type: "text", value: (r) => r.bindingKey ?? null };
const DPOP: Field = { key: "dpopJkt", type: "text", value: (r) => r.dpopJkt };

/**
 * Rotations of one shape as one PostgreSQL statement: its text, the array type of each `$n`,
 * and the parameters of a batch.
 */
export interface RotationBatch {
  text: string;
  types: PostgresArrayType[];
  /** One array per parameter, each with the rotations' values in the order given. */
  values(rotations: readonly Rotation[]): Array<Array<string | number | null>>;
}

/** Where the sessions live: the table (and its schema), and each field's column name. */
export interface SessionsTableNames {
  table: string;
  schema?: string;
  column(field: keyof SessionRecord): string;
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * Rotations that share a shape as one `UPDATE … FROM unnest(…) WITH ORDINALITY … RETURNING`: each
 * row of the `unnest` is the single-row compare-and-set of {@link TokenStore.rotate} (the
 * session by primary key, still naming the expected hash, not revoked, live at the rotation's
 * instant, and the client, binding and DPoP conditions the shape carries), and each rotated row
 * comes back as its ordinal (from 1, in the order given) and its {@link UNCHANGED_BY_ROTATION}
 * columns. A rotation whose row no longer matches joins nothing and writes nothing; when two
 * rotations of one batch name the same session and hash, PostgreSQL updates the row once, for
 * one of them, and the other gets no row — as when they race on two connections. One statement,
 * one commit and one round trip for the batch, and each row still a heap-only update.
 *
 * The shape — whether `clientId` is given, whether `bindingKey` is given and whether it is
 * `null`, whether `dpopJkt` is `null` — decides the SQL: batch only rotations of `shape`'s.
 * Give the rotations sorted by `sessionId`, so that two batches sharing rows lock them in the
 * same order.
 *
 * @example
 * ```ts
 * import { postgresRotationBatch } from "@tokens/core/sql";
 *
 * const batch = postgresRotationBatch(rotations[0], { table: "tokens_sessions", column: snakeCase });
 * const { rows } = await pool.query({ text: batch.text, values: batch.values(rotations), rowMode: "array" });
 * ```
 */
export function postgresRotationBatch(shape: Rotation, names: SessionsTableNames): RotationBatch {
  const table = names.schema ? `${quote(names.schema)}.${quote(names.table)}` : quote(names.table);
  const name = (field: keyof SessionRecord) => quote(names.column(field));
  const s = (field: keyof SessionRecord) => `s.${name(field)}`;
  const v = (key: keyof Rotation) => `v.${quote(key)}`;
  const bound = shape.bindingKey !== undefined && shape.bindingKey !== null;
  const fields = [
    ...FIELDS,
    ...(shape.clientId === undefined ? [] : [CLIENT]),
    ...(bound ? [BINDING] : []),
    ...(shape.dpopJkt === null ? [] : [DPOP]),
  ];
  const conditions = [
    `${s("id")} = ${v("sessionId")}`,
    `${s("currentHash")} = ${v("expectedHash")}`,
    `${s("revokedAt")} IS NULL`,
    `${s("expiresAt")} > ${v("rotatedAt")}`,
    `${s("idleExpiresAt")} > ${v("rotatedAt")}`,
    ...(shape.clientId === undefined ? [] : [`${s("clientId")} = ${v("clientId")}`]),
    ...(shape.bindingKey === undefined
      ? []
      : [bound ? `${s("bindingKey")} = ${v("bindingKey")}` : `${s("bindingKey")} IS NULL`]),
    shape.dpopJkt === null
      ? `${s("dpopJkt")} IS NULL`
      : `(${s("dpopJkt")} IS NULL OR ${s("dpopJkt")} = ${v("dpopJkt")})`,
  ];
  const changes: Array<[keyof SessionRecord, string]> = [
    ["generation", v("generation")],
    ["previousHash", v("expectedHash")],
    ["currentHash", v("successorHash")],
    ["sealedSuccessor", v("sealedSuccessor")],
    ["rotatedAt", v("rotatedAt")],
    ["lastUsedAt", v("rotatedAt")],
    ["idleExpiresAt", `LEAST(${v("idleExpiresAt")}, ${s("expiresAt")})`],
    ["purgeAfter", `LEAST(${v("purgeAfter")}, ${s("expiresAt")})`],
  ];
  const text = [
    `UPDATE ${table} AS s SET`,
    changes.map(([field, value]) => `${name(field)} = ${value}`).join(", "),
    `FROM unnest(${fields.map((f, i) => `$${i + 1}::${f.type}[]`).join(", ")}) WITH ORDINALITY`,
    `AS v(${[...fields.map((f) => quote(f.key)), "i"].join(", ")})`,
    `WHERE ${conditions.join(" AND ")}`,
    `RETURNING v.i, ${UNCHANGED_BY_ROTATION.map(s).join(", ")}`,
  ].join(" ");
  return {
    text,
    types: fields.map((field) => field.type),
    values: (rotations) => fields.map((field) => rotations.map(field.value)),
  };
}
