import {
  type ClientContext,
  type Rotation,
  rotatedSession,
  type SessionRecord,
  type UnchangedByRotation,
} from "@tokens/core";
import { rotationShape, UNCHANGED_BY_ROTATION } from "@tokens/core/sql";
import {
  and,
  type Column,
  DrizzleQueryError,
  entityKind,
  eq,
  is,
  isNull,
  lt,
  or,
  Param,
  Placeholder,
  type SQL,
  type SQLWrapper,
  sql,
  type Table,
} from "drizzle-orm";

/** A sessions table of any dialect, seen through the columns every dialect defines alike. */
export type SessionsTable = Table & { [K in keyof SessionRecord]-?: Column };

/** The table, as the dialect-neutral code sees it. */
export interface Tables {
  sessions: SessionsTable;
}

/**
 * What differs between dialects: the rotation (UPDATE … RETURNING or not), purge (SKIP LOCKED or
 * not), how an UPDATE reports the rows it changed, and which driver errors are transient
 * conflicts. Everything else is written once against {@link Queries}.
 */
export interface DialectOps {
  /** {@link TokenStore.rotate}: the session as the rotation left it, or `null` when refused. */
  rotate(rotation: Rotation): Promise<SessionRecord | null>;
  purge(before: Date, limit: number): Promise<number>;
  /** Run a sessions UPDATE and resolve how many rows it changed. */
  updateCount(update: UpdateQuery): Promise<number>;
  /**
   * Whether the driver's `error` is a conflict that aborted the whole statement (or transaction)
   * and that running it again may resolve: a deadlock, a serialization failure, a lock wait
   * timeout. Every operation can be run again then, since nothing of it was kept.
   */
  transient(error: unknown): boolean;
}

/** A Drizzle UPDATE … WHERE, before it runs. */
export interface UpdateQuery extends PromiseLike<unknown> {
  returning(fields: Record<string, Column>): PromiseLike<unknown[]>;
}

interface SelectQuery extends PromiseLike<Row[]>, SQLWrapper {
  where(where: SQL | undefined): SelectQuery;
  orderBy(...order: SQL[]): SelectQuery;
  limit(limit: number): SelectQuery;
}

/**
 * The part of Drizzle's query builder that has the same shape in PostgreSQL, MySQL and SQLite.
 * Every Drizzle database has it; typing it once keeps the shared reads and writes in one place.
 */
export interface Queries {
  select(fields: Record<string, unknown>): { from(table: Table): SelectQuery };
  insert(table: Table): { values(values: Record<string, unknown>): PromiseLike<unknown> };
  update(table: Table): {
    set(values: Record<string, unknown>): { where(where: SQL | undefined): UpdateQuery };
  };
}

/** The driver's own error: Drizzle wraps it in an error whose message lists the query's parameters. */
export function driverError(error: unknown): unknown {
  if (error instanceof DrizzleQueryError) return error.cause ?? error;
  // A second copy of drizzle-orm in the app would fail the instanceof check: match the shape.
  if (error instanceof Error && "query" in error && "params" in error && error.cause) {
    return error.cause;
  }
  return error;
}

/** A selected row, before it is read into a record. */
export type Row = Record<string, unknown>;

/** Rows to insert: the record's keys are the table's keys. */
export { sessionFields as sessionRow } from "@tokens/core";

// Drivers differ in how they hand back numbers and dates that Drizzle does not map itself
// (e.g. integers as strings or bigints, timestamps as text); reading every field through these
// keeps records exact.
const text = (value: unknown): string => String(value);
const optionalText = (value: unknown): string | null =>
  value === null || value === undefined ? null : String(value);
const count = (value: unknown): number => Number(value);
const instant = (value: unknown): Date =>
  value instanceof Date ? value : new Date(value as string);
const optionalInstant = (value: unknown): Date | null =>
  value === null || value === undefined ? null : instant(value);
const json = <T>(value: unknown): T | null =>
  value === null || value === undefined
    ? null
    : ((typeof value === "string" ? JSON.parse(value) : value) as T);

/** A selected sessions row as a {@link SessionRecord}. */
export function toSession(row: Row): SessionRecord {
  return {
    ...unchangedFields(row),
    id: text(row.id),
    generation: count(row.generation),
    currentHash: text(row.currentHash),
    previousHash: optionalText(row.previousHash),
    sealedSuccessor: optionalText(row.sealedSuccessor),
    rotatedAt: optionalInstant(row.rotatedAt),
    lastUsedAt: instant(row.lastUsedAt),
    idleExpiresAt: instant(row.idleExpiresAt),
    purgeAfter: instant(row.purgeAfter),
    revokedAt: optionalInstant(row.revokedAt),
    revokeReason: optionalText(row.revokeReason),
  };
}

/** The fields of a selected row that no rotation changes. */
function unchangedFields(row: Row): UnchangedByRotation {
  return {
    subject: text(row.subject),
    clientId: text(row.clientId),
    createdAt: instant(row.createdAt),
    expiresAt: instant(row.expiresAt),
    client: json<ClientContext>(row.client),
    bindingKey: optionalText(row.bindingKey),
    claims: json<Record<string, unknown>>(row.claims),
    dpopJkt: optionalText(row.dpopJkt),
  };
}

/**
 * The columns a rotation leaves as they are, by record key: all that a rotation must read back,
 * since every other field of the rotated session is a value of the rotation itself (see
 * {@link rotationResult}). Fewer columns returned is less for the server to format and for the
 * driver to parse on every refresh.
 */
export const ROTATION_RESULT = UNCHANGED_BY_ROTATION;

/** The {@link ROTATION_RESULT} columns of a table, for `RETURNING` or a read by primary key. */
export function rotationResultColumns(t: Tables): Record<string, Column> {
  return Object.fromEntries(ROTATION_RESULT.map((key) => [key, t.sessions[key]]));
}

/** A row of the {@link ROTATION_RESULT} columns as a driver returns it in array form. */
export function rotationRow(values: ArrayLike<unknown>): Row {
  const row: Row = {};
  ROTATION_RESULT.forEach((key, i) => {
    row[key] = values[i];
  });
  return row;
}

/**
 * The client of a Drizzle database's driver, when Drizzle's session over it is of the class
 * whose entity kind is `sessionKind` (e.g. `"NodePgSession"`) and the client has a `method`
 * function; otherwise `undefined`. Recognized by name, so the driver stays an optional peer.
 * Stores use it to run the rotation on the driver directly: Drizzle's wrapping and per-column
 * mapping of every query cost a refresh more than the driver itself does.
 */
export function driverClient<T>(db: unknown, sessionKind: string, method: string): T | undefined {
  const session = (
    db as {
      session?: { constructor: { [entityKind]?: unknown }; client?: Record<string, unknown> };
    }
  ).session;
  return session?.constructor[entityKind] === sessionKind &&
    typeof session.client?.[method] === "function"
    ? (session.client as T)
    : undefined;
}

/**
 * The session `rotation` left, from the {@link ROTATION_RESULT} columns of its row: those as
 * read, everything else as the rotation wrote it.
 */
export function rotationResult(row: Row, rotation: Rotation): SessionRecord {
  return rotatedSession(unchangedFields(row), rotation);
}

/** The earlier of `column` and the instant `value` (typed as `column`), in SQL every dialect runs. */
export function earlierOf(column: Column, value: unknown, than: Column = column): SQL {
  const at = sql.param(value, column);
  return sql`case when ${than} < ${at} then ${than} else ${at} end`;
}

/**
 * The compare-and-set condition of a rotation: the session by its primary key, still naming the
 * expected token, not revoked, live at the rotation's instant, of the same client and binding
 * when the rotation gives them, and bound to no DPoP key or to the one the rotation proved.
 * Nothing but the primary key is looked up.
 */
function rotationTarget(t: Tables, rotation: Rotation): SQL {
  const { sessions } = t;
  const at = sql.param(rotation.rotatedAt, sessions.rotatedAt);
  return and(
    eq(sessions.id, rotation.sessionId),
    eq(sessions.currentHash, rotation.expectedHash),
    isNull(sessions.revokedAt),
    sql`${sessions.expiresAt} > ${at}`,
    sql`${sessions.idleExpiresAt} > ${at}`,
    rotation.clientId === undefined ? undefined : eq(sessions.clientId, rotation.clientId),
    rotation.bindingKey === undefined
      ? undefined
      : rotation.bindingKey === null
        ? isNull(sessions.bindingKey)
        : eq(sessions.bindingKey, rotation.bindingKey),
    rotation.dpopJkt === null
      ? isNull(sessions.dpopJkt)
      : or(isNull(sessions.dpopJkt), eq(sessions.dpopJkt, rotation.dpopJkt)),
  ) as SQL;
}

/**
 * The session columns a rotation sets. Each is a value of the rotation or computed from columns
 * the UPDATE leaves alone (`expires_at`, `purge_after` itself): MySQL applies assignments left
 * to right, so a reference to a column assigned before would read its new value.
 */
function rotationChanges(t: Tables, rotation: Rotation): Record<string, unknown> {
  const { sessions } = t;
  return {
    generation: rotation.generation,
    // The WHERE pins current_hash to it.
    previousHash: rotation.expectedHash,
    currentHash: rotation.successorHash,
    sealedSuccessor: rotation.sealedSuccessor,
    rotatedAt: rotation.rotatedAt,
    lastUsedAt: rotation.rotatedAt,
    idleExpiresAt: earlierOf(sessions.idleExpiresAt, rotation.idleExpiresAt, sessions.expiresAt),
    purgeAfter: earlierOf(sessions.purgeAfter, rotation.purgeAfter, sessions.expiresAt),
  };
}

/**
 * The rotation's UPDATE of the sessions table, before it runs: `UPDATE … SET` {@link
 * rotationChanges} `WHERE` {@link rotationTarget}. A dialect adds `RETURNING` if it has it.
 */
export function rotationUpdate(db: Queries, t: Tables, rotation: Rotation): UpdateQuery {
  return db.update(t.sessions).set(rotationChanges(t, rotation)).where(rotationTarget(t, rotation));
}

/**
 * A rotation whose values are placeholders (named after its fields), keeping only its shape —
 * whether `clientId` is given, whether `bindingKey` is given and `null`, whether `dpopJkt` is
 * `null` — which decides the SQL.
 * Build a statement from it once per shape, prepare it, and execute it with the rotation itself
 * as the placeholder values: the query is not rebuilt on every refresh.
 */
function placeholders(rotation: Rotation): Rotation {
  const value = (name: keyof Rotation) => sql.placeholder(name) as unknown as never;
  return {
    sessionId: value("sessionId"),
    expectedHash: value("expectedHash"),
    successorHash: value("successorHash"),
    generation: value("generation"),
    sealedSuccessor: value("sealedSuccessor"),
    rotatedAt: value("rotatedAt"),
    idleExpiresAt: value("idleExpiresAt"),
    purgeAfter: value("purgeAfter"),
    ...(rotation.clientId === undefined ? {} : { clientId: value("clientId") }),
    ...(rotation.bindingKey === undefined
      ? {}
      : { bindingKey: rotation.bindingKey === null ? null : value("bindingKey") }),
    dpopJkt: rotation.dpopJkt === null ? null : value("dpopJkt"),
  };
}

/**
 * The driver values of a built statement's parameters for a rotation: Drizzle's
 * `fillPlaceholders`, with what each parameter is (a placeholder, an encoded placeholder, a
 * constant) decided once per statement instead of on every refresh.
 */
export function parameterValues(params: unknown[]): (rotation: Rotation) => unknown[] {
  const readers = params.map((param): ((values: Record<string, unknown>) => unknown) => {
    if (is(param, Placeholder)) return (values) => values[param.name];
    if (is(param, Param) && is(param.value, Placeholder)) {
      const { encoder, value } = param;
      return (values) => encoder.mapToDriverValue(values[value.name]);
    }
    return () => param;
  });
  return (rotation) => {
    const values = rotation as unknown as Record<string, unknown>;
    return readers.map((read) => read(values));
  };
}

/**
 * What `build` makes of a rotation's shape from its placeholders (see {@link placeholders}):
 * built on the first rotation of each shape, then kept — until `clear`.
 */
export function byShape<T>(build: (placeholders: Rotation) => T) {
  const built = new Map<string, T>();
  return {
    for(rotation: Rotation): T {
      const key = rotationShape(rotation);
      let made = built.get(key);
      if (made === undefined) {
        made = build(placeholders(rotation));
        built.set(key, made);
      }
      return made;
    },
    clear: () => built.clear(),
  };
}

/**
 * Sessions that ended before `before`, found through the `purge_after` index (every ended
 * session's `purge_after` is at or before its end) and checked exactly on the rows found:
 * revoked, idle past their TTL, or past their lifetime.
 */
export function endedBefore(t: Tables, before: Date): SQL {
  const { sessions } = t;
  return and(
    lt(sessions.purgeAfter, before),
    or(
      lt(sessions.revokedAt, before),
      lt(sessions.idleExpiresAt, before),
      lt(sessions.expiresAt, before),
    ),
  ) as SQL;
}

/** Up to `limit` ids of sessions that ended before `before`, as a subquery or a plain read. */
export function endedIds(db: Queries, t: Tables, before: Date, limit: number): SelectQuery {
  return db
    .select({ id: t.sessions.id })
    .from(t.sessions)
    .where(endedBefore(t, before))
    .limit(limit);
}
