import type {
  ClientContext,
  LiveRotation,
  Rotation,
  SessionRecord,
  TokenRecord,
} from "@tokens/core";
import {
  and,
  type Column,
  DrizzleQueryError,
  eq,
  inArray,
  isNull,
  lt,
  or,
  type SQL,
  type SQLWrapper,
  sql,
  type Table,
} from "drizzle-orm";

/** A sessions table of any dialect, seen through the columns every dialect defines alike. */
export type SessionsTable = Table & { [K in keyof SessionRecord]-?: Column };

/** A refresh-token table of any dialect, seen the same way. */
export type TokensTable = Table & { [K in keyof TokenRecord]-?: Column };

/** The two tables, as the dialect-neutral code sees them. */
export interface Tables {
  sessions: SessionsTable;
  tokens: TokensTable;
}

/**
 * What differs between dialects: the writes that must be atomic across several rows, and how
 * an UPDATE reports the rows it changed. Everything else is written once against {@link Queries}.
 */
export interface DialectOps {
  createSession(session: SessionRecord, token: TokenRecord): Promise<void>;
  rotate(rotation: Rotation): Promise<boolean>;
  /** Resolves the rotated session row (as selected), or `undefined` when the session refused. */
  rotateLive(rotation: LiveRotation): Promise<Row | undefined>;
  purge(before: Date, limit: number): Promise<number>;
  /** Run a sessions UPDATE and resolve how many rows it changed. */
  updateCount(update: UpdateQuery): Promise<number>;
}

/** A Drizzle UPDATE … WHERE, before it runs. */
export interface UpdateQuery extends PromiseLike<unknown> {
  returning(fields: Record<string, Column>): PromiseLike<unknown[]>;
}

interface SelectQuery extends PromiseLike<Row[]>, SQLWrapper {
  where(where: SQL | undefined): SelectQuery;
  innerJoin(table: Table, on: SQL): SelectQuery;
  orderBy(...order: SQL[]): SelectQuery;
  limit(limit: number): SelectQuery;
}

/**
 * The part of Drizzle's query builder that has the same shape in PostgreSQL, MySQL and SQLite.
 * Every Drizzle database has it; typing it once keeps the shared reads and updates in one place.
 */
export interface Queries {
  select(fields: Record<string, unknown>): { from(table: Table): SelectQuery };
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

/** Rows to insert: the records' keys are the tables' keys. */
export { sessionFields as sessionRow, tokenFields as tokenRow } from "@tokens/core";

// Drivers differ in how they hand back numbers and dates that Drizzle does not map itself
// (e.g. integers as strings or bigints); reading every field through these keeps records exact.
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
    id: text(row.id),
    subject: text(row.subject),
    clientId: text(row.clientId),
    generation: count(row.generation),
    currentHash: text(row.currentHash),
    previousHash: optionalText(row.previousHash),
    sealedSuccessor: optionalText(row.sealedSuccessor),
    rotatedAt: optionalInstant(row.rotatedAt),
    createdAt: instant(row.createdAt),
    lastUsedAt: instant(row.lastUsedAt),
    idleExpiresAt: instant(row.idleExpiresAt),
    expiresAt: instant(row.expiresAt),
    revokedAt: optionalInstant(row.revokedAt),
    revokeReason: optionalText(row.revokeReason),
    client: json<ClientContext>(row.client),
    bindingKey: optionalText(row.bindingKey),
    claims: json<Record<string, unknown>>(row.claims),
  };
}

/** A selected token row as a {@link TokenRecord}. */
export function toToken(row: Row): TokenRecord {
  return {
    hash: text(row.hash),
    sessionId: text(row.sessionId),
    generation: count(row.generation),
    createdAt: instant(row.createdAt),
  };
}

/** The compare-and-set condition of a rotation: the session, still naming the expected token, live. */
export function rotationTarget(t: Tables, rotation: Rotation): SQL {
  return and(
    eq(t.sessions.id, rotation.sessionId),
    eq(t.sessions.currentHash, rotation.expectedHash),
    isNull(t.sessions.revokedAt),
  ) as SQL;
}

/** The session columns a successful rotation sets. */
export function rotationChanges(t: Tables, rotation: Rotation): Record<string, unknown> {
  return {
    generation: sql`${t.sessions.generation} + 1`,
    previousHash: rotation.expectedHash,
    currentHash: rotation.successor.hash,
    sealedSuccessor: rotation.sealedSuccessor,
    rotatedAt: rotation.rotatedAt,
    lastUsedAt: rotation.rotatedAt,
    idleExpiresAt: rotation.idleExpiresAt,
  };
}

/**
 * A constant typed as `column`, for the select list of an INSERT … SELECT: there the database
 * cannot infer a parameter's type from the target column, so PostgreSQL would take it as text.
 */
function constant(value: unknown, column: Column): SQL {
  return sql`cast(${sql.param(value, column)} as ${sql.raw(column.getSQLType())})`;
}

/**
 * The select list that turns the one session row a rotation targets into the successor's
 * token row, in the tokens table's column order (Drizzle requires that order).
 */
export function successorSelection(t: Tables, rotation: Rotation, sessionId: Column | SQL) {
  const { successor } = rotation;
  return {
    hash: constant(successor.hash, t.tokens.hash),
    sessionId,
    generation: constant(successor.generation, t.tokens.generation),
    createdAt: constant(successor.createdAt, t.tokens.createdAt),
  };
}

/**
 * The condition of {@link LiveRotation}: every check core makes on the common refresh path —
 * still the live token, not revoked, neither deadline reached, same client and binding — so a
 * refused rotation changes nothing and core's full path can tell why. The session is found by
 * the unique index on `current_hash` alone: also looking its token up, to compare the session
 * id, can only agree (a live token's row always names its session) and costs another index
 * lookup per statement — on MariaDB a tenth of a refresh's server time.
 */
export function liveRotationTarget(t: Tables, rotation: LiveRotation): SQL {
  const { sessions } = t;
  const at = sql.param(rotation.rotatedAt, sessions.rotatedAt);
  return and(
    eq(sessions.currentHash, rotation.expectedHash),
    isNull(sessions.revokedAt),
    sql`${sessions.expiresAt} > ${at}`,
    sql`${sessions.idleExpiresAt} > ${at}`,
    rotation.clientId === undefined ? undefined : eq(sessions.clientId, rotation.clientId),
    rotation.bindingKey === null
      ? isNull(sessions.bindingKey)
      : eq(sessions.bindingKey, rotation.bindingKey),
  ) as SQL;
}

/** The session columns a live rotation sets: those of {@link rotationChanges}, idle deadline capped. */
export function liveRotationChanges(t: Tables, rotation: LiveRotation): Record<string, unknown> {
  const { sessions } = t;
  const idle = sql.param(rotation.idleExpiresAt, sessions.idleExpiresAt);
  return {
    generation: sql`${sessions.generation} + 1`,
    // The WHERE pins current_hash to it; a column reference here would read the new value on
    // MySQL, which applies assignments left to right in the table's column order.
    previousHash: rotation.expectedHash,
    currentHash: rotation.successorHash,
    sealedSuccessor: rotation.sealedSuccessor,
    rotatedAt: rotation.rotatedAt,
    lastUsedAt: rotation.rotatedAt,
    idleExpiresAt: sql`case when ${sessions.expiresAt} < ${idle} then ${sessions.expiresAt} else ${idle} end`,
  };
}

/**
 * The select list that turns a session row that a live rotation already updated (its
 * generation is the successor's) into the successor's token row, in the tokens table's column
 * order. `typed: false` leaves the constants as plain parameters, for MySQL, which needs no
 * casts there (and has no CAST to its column types).
 */
export function liveSuccessorSelection(
  t: Tables,
  rotation: LiveRotation,
  rotated: { id: Column | SQL; generation: Column | SQL },
  typed = true,
) {
  const value = typed ? constant : (v: unknown, column: Column) => sql`${sql.param(v, column)}`;
  return {
    hash: value(rotation.successorHash, t.tokens.hash),
    sessionId: rotated.id,
    generation: rotated.generation,
    createdAt: value(rotation.rotatedAt, t.tokens.createdAt),
  };
}

/**
 * A live rotation whose values are placeholders (named after its fields), keeping only its
 * shape — whether `clientId` is given, whether `bindingKey` is `null` — which decides the SQL.
 * Build a statement from it once per shape, prepare it, and execute it with the rotation itself
 * as the placeholder values: the query is not rebuilt on every refresh.
 */
function livePlaceholders(rotation: LiveRotation): LiveRotation {
  const value = (name: keyof LiveRotation) => sql.placeholder(name) as unknown as never;
  return {
    expectedHash: value("expectedHash"),
    successorHash: value("successorHash"),
    sealedSuccessor: value("sealedSuccessor"),
    rotatedAt: value("rotatedAt"),
    idleExpiresAt: value("idleExpiresAt"),
    ...(rotation.clientId === undefined ? {} : { clientId: value("clientId") }),
    bindingKey: rotation.bindingKey === null ? null : value("bindingKey"),
  };
}

/** The shape of a live rotation that decides its SQL (see {@link livePlaceholders}). */
const liveShape = (rotation: LiveRotation): string =>
  `${rotation.clientId === undefined ? "any" : "client"}-${rotation.bindingKey === null ? "unbound" : "bound"}`;

/**
 * What `build` makes of a live rotation's shape from its placeholders (see
 * {@link livePlaceholders}): built on the first rotation of each shape, then kept — until
 * `clear`.
 */
export function byShape<T>(build: (placeholders: LiveRotation) => T) {
  const built = new Map<string, T>();
  return {
    for(rotation: LiveRotation): T {
      const shape = liveShape(rotation);
      let made = built.get(shape);
      if (made === undefined) {
        made = build(livePlaceholders(rotation));
        built.set(shape, made);
      }
      return made;
    },
    clear: () => built.clear(),
  };
}

/**
 * The session row a live rotation leaves, computed from the row read before it: the columns
 * {@link liveRotationChanges} sets, the rest unchanged (a rotation requires the session not to
 * be revoked, and nothing else of it ever changes). For dialects without UPDATE … RETURNING.
 */
export function liveRotated(session: Row, rotation: LiveRotation): Row {
  const expiresAt =
    session.expiresAt instanceof Date ? session.expiresAt : new Date(String(session.expiresAt));
  return {
    ...session,
    generation: Number(session.generation) + 1,
    previousHash: rotation.expectedHash,
    currentHash: rotation.successorHash,
    sealedSuccessor: rotation.sealedSuccessor,
    rotatedAt: rotation.rotatedAt,
    lastUsedAt: rotation.rotatedAt,
    idleExpiresAt: new Date(Math.min(rotation.idleExpiresAt.getTime(), expiresAt.getTime())),
  };
}

/**
 * Purge's first step where there is no SKIP LOCKED: up to `limit` ended sessions, picked by a
 * plain read so the range scan takes no locks. Resolves the condition that names those of them
 * that still ended — to be re-checked where they are locked or deleted, since a rotation or a
 * revocation may have touched them since — or `undefined` when nothing is left to purge.
 */
export async function purgeCandidates(
  db: Queries,
  t: Tables,
  before: Date,
  limit: number,
): Promise<SQL | undefined> {
  const candidates = await db
    .select({ id: t.sessions.id })
    .from(t.sessions)
    .where(endedBefore(t, before))
    .limit(limit);
  if (candidates.length === 0) return undefined;
  const ids = candidates.map((row) => row.id as string);
  return and(inArray(t.sessions.id, ids), endedBefore(t, before)) as SQL;
}

/** Sessions that ended before `before`: revoked, idle past their TTL, or past their lifetime. */
export function endedBefore(t: Tables, before: Date): SQL {
  return or(
    lt(t.sessions.revokedAt, before),
    lt(t.sessions.idleExpiresAt, before),
    lt(t.sessions.expiresAt, before),
  ) as SQL;
}
