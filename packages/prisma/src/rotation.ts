import {
  type ClientContext,
  type Rotation,
  rotatedSession,
  type SessionRecord,
} from "@tokens/core";
import {
  mysqlBatchedRotate,
  type PostgresArrayType,
  postgresBatchedRotate,
} from "@tokens/core/sql";
import type { PrismaTokensClient } from "./client.js";
import { type ArgType, clientAdapter, type SqlQuery } from "./driver.js";

/** The providers whose SQL the store speaks. */
export type SqlDialect = "postgresql" | "mysql" | "sqlite";

/**
 * The columns a rotation leaves as they are, in the order every statement of this file selects
 * them: all a rotation must read back, since every other field of the rotated session is a value
 * of the rotation itself (see {@link rotated}). Fewer columns returned is less for the server to
 * format and for the adapter to decode on every refresh.
 */
const COLUMNS = [
  "subject",
  "client_id",
  "created_at",
  "expires_at",
  "client",
  "binding_key",
  "claims",
  "dpop_jkt",
] as const;
const SELECTED = COLUMNS.join(", ");

// Adapters decode raw results by the column types they see (an instant as a `Date`, ISO text or
// epoch milliseconds; JSON parsed or as text); these accept each form, so a record read through
// raw SQL equals one read through the model.
const instant = (value: unknown): Date =>
  value instanceof Date ? value : new Date(value as string | number);
const json = <T>(value: unknown): T | null =>
  value === null || value === undefined
    ? null
    : ((typeof value === "string" ? JSON.parse(value) : value) as T);
const text = (value: unknown): string | null => (value ?? null) as string | null;

/**
 * The session `rotation` left, from its row's {@link COLUMNS} (an array in that order): those as
 * read, everything else as the rotation wrote it.
 */
function rotated(row: unknown[], rotation: Rotation): SessionRecord {
  return rotatedSession(
    {
      subject: row[0] as string,
      clientId: row[1] as string,
      createdAt: instant(row[2]),
      expiresAt: instant(row[3]),
      client: json<ClientContext>(row[4]),
      bindingKey: text(row[5]),
      claims: json<Record<string, unknown>>(row[6]),
      dpopJkt: text(row[7]),
    },
    rotation,
  );
}

/** A parameter of a statement: how to read it from the rotation, and how the adapter encodes it. */
interface Param {
  value: (rotation: Rotation) => unknown;
  type: ArgType;
}

const param = (scalarType: ArgType["scalarType"], value: Param["value"]): Param => ({
  value,
  type: { scalarType, arity: "scalar" },
});
const P = {
  generation: param("int", (r) => r.generation),
  sessionId: param("string", (r) => r.sessionId),
  expectedHash: param("string", (r) => r.expectedHash),
  successorHash: param("string", (r) => r.successorHash),
  sealedSuccessor: param("string", (r) => r.sealedSuccessor),
  rotatedAt: param("datetime", (r) => r.rotatedAt),
  idleExpiresAt: param("datetime", (r) => r.idleExpiresAt),
  purgeAfter: param("datetime", (r) => r.purgeAfter),
  clientId: param("string", (r) => r.clientId),
  bindingKey: param("string", (r) => r.bindingKey ?? null),
  dpopJkt: param("string", (r) => r.dpopJkt),
};

/** The model's column name of a session field: `clientId` is `client_id`. */
const snakeCase = (field: string) =>
  field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

/** How the driver adapter encodes a batch parameter (instants go as ISO text). */
const listOf = (type: PostgresArrayType): ArgType => ({
  scalarType: type === "int4" ? "int" : "string",
  arity: "list",
});

/** SQL with its parameters, compiled once: `?` placeholders, numbered `$n` on PostgreSQL. */
interface Statement {
  sql: string;
  params: Param[];
  argTypes: ArgType[];
}

function statement(dialect: SqlDialect, parts: Array<string | Param>): Statement {
  const params = parts.filter((part): part is Param => typeof part !== "string");
  let n = 0;
  const sql = parts
    .map((part) => (typeof part === "string" ? part : dialect === "postgresql" ? `$${++n}` : "?"))
    .join("")
    .replace(/\s+/g, " ")
    .trim();
  return { sql, params, argTypes: params.map((p) => p.type) };
}

/**
 * What decides the SQL of a rotation: whether it compares the client, whether it compares the
 * binding key, and whether it proved a DPoP key.
 */
interface Shape {
  client: boolean;
  binding: boolean;
  proved: boolean;
}

const shapeOf = (rotation: Rotation): Shape => ({
  client: rotation.clientId !== undefined,
  binding: rotation.bindingKey !== undefined,
  proved: rotation.dpopJkt !== null,
});

/**
 * The compare-and-set of `rotate` as one UPDATE of the session row by primary key, every check
 * of the contract in its WHERE (the optional client and binding comparisons only when the
 * rotation carries them; a session bound to a DPoP key only for a rotation that proved that
 * key), so a refused rotation matches no row and writes nothing. PostgreSQL and SQLite return
 * the row (`RETURNING`); MySQL has none, see {@link readBack}.
 */
function rotateStatement(dialect: SqlDialect, { client, binding, proved }: Shape): Statement {
  const least = dialect === "sqlite" ? "MIN" : "LEAST";
  // MySQL compares a string argument with a DATETIME as strings inside LEAST: cast it.
  const at = (p: Param): Array<string | Param> =>
    dialect === "mysql" ? ["CAST(", p, " AS DATETIME(3))"] : [p];
  const nullSafeEquals =
    dialect === "postgresql" ? "IS NOT DISTINCT FROM" : dialect === "mysql" ? "<=>" : "IS";
  return statement(dialect, [
    "UPDATE tokens_sessions SET generation = ",
    P.generation,
    // The parameter, not `current_hash`: MySQL assigns left to right.
    ", previous_hash = ",
    P.expectedHash,
    ", current_hash = ",
    P.successorHash,
    ", sealed_successor = ",
    P.sealedSuccessor,
    ", rotated_at = ",
    P.rotatedAt,
    ", last_used_at = ",
    P.rotatedAt,
    `, idle_expires_at = ${least}(`,
    ...at(P.idleExpiresAt),
    `, expires_at), purge_after = ${least}(`,
    ...at(P.purgeAfter),
    ", expires_at) WHERE id = ",
    P.sessionId,
    " AND current_hash = ",
    P.expectedHash,
    " AND revoked_at IS NULL AND expires_at > ",
    P.rotatedAt,
    " AND idle_expires_at > ",
    P.rotatedAt,
    ...(client ? [" AND client_id = ", P.clientId] : []),
    ...(binding ? [` AND binding_key ${nullSafeEquals} `, P.bindingKey] : []),
    ...(proved
      ? [" AND (dpop_jkt IS NULL OR dpop_jkt = ", P.dpopJkt, ")"]
      : [" AND dpop_jkt IS NULL"]),
    dialect === "mysql" ? "" : ` RETURNING ${SELECTED}`,
  ]);
}

/**
 * MySQL: the row the UPDATE rotated, by primary key. By the time it is read the session may have
 * moved on (a caller within the grace window can get this successor and refresh it at once); it
 * reads only the columns no rotation changes, so the answer is still this caller's rotation.
 */
const readBack = statement("mysql", [
  `SELECT ${SELECTED} FROM tokens_sessions WHERE id = `,
  P.sessionId,
]);

/** Error codes of a conflict that rolled back only the failed statement: it can run again. */
const TRANSIENT = new Set(["1213", "1205", "40001", "40P01", "P2034"]);

/** Whether `test` holds for `error` or anything in its cause chain (adapters nest the driver's). */
function inChain(
  error: unknown,
  test: (error: Record<string, unknown>) => boolean,
  depth = 0,
): boolean {
  if (typeof error !== "object" || error === null || depth > 4) return false;
  const fields = error as Record<string, unknown>;
  const { cause, meta } = fields;
  return (
    test(fields) ||
    inChain(cause, test, depth + 1) ||
    inChain(
      (meta as { driverAdapterError?: unknown } | undefined)?.driverAdapterError,
      test,
      depth + 1,
    )
  );
}

/**
 * Whether a driver, adapter or Prisma error is a deadlock, lock wait timeout or serialization
 * failure (however deep in its `cause` chain the code sits).
 */
export function isTransient(error: unknown): boolean {
  return inChain(
    error,
    ({ code, originalCode, kind }) =>
      kind === "TransactionWriteConflict" ||
      TRANSIENT.has(String(originalCode)) ||
      TRANSIENT.has(String(code)),
  );
}

/**
 * Whether the database refused a batch (the adapter reports its code: PostgreSQL's SQLSTATE,
 * MySQL's error number), other than for a conflict: nothing of it was kept, and another rotation
 * of the batch may be the cause.
 */
function refusedStatement(error: unknown): boolean {
  return (
    !isTransient(error) &&
    inChain(
      error,
      ({ originalCode }) => typeof originalCode === "string" && /^[0-9A-Z]+$/.test(originalCode),
    )
  );
}

/** A MySQL batch parameter as the adapter encodes it: the generation an integer, all else text. */
const scalarOf = (value: unknown): ArgType => ({
  scalarType: typeof value === "number" ? "int" : "string",
  arity: "scalar",
});

const ATTEMPTS = 5;

/** Runs one autocommitted statement, again (a bounded number of times) after a transient conflict. */
export async function retrying<T>(run: () => PromiseLike<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= ATTEMPTS || !isTransient(error)) throw error;
    }
  }
}

/**
 * `rotate` in raw SQL for `dialect`: one statement on PostgreSQL and SQLite; on MySQL the UPDATE
 * and, when it rotated, the read-back. Each statement is compiled once, for the first rotation of
 * its {@link Shape}; each call only reads its arguments from the rotation and sends them to the
 * client's driver adapter (or, when the client has none to share, through `$queryRawUnsafe`).
 *
 * @example
 * ```ts
 * const rotate = sqlRotation(prisma, "postgresql");
 * const session = await rotate(rotation); // the rotated session, or null
 * ```
 */
export function sqlRotation(
  prisma: PrismaTokensClient,
  dialect: SqlDialect,
): (rotation: Rotation) => Promise<SessionRecord | null> {
  const updates = new Map<string, Statement>();
  const updateFor = (rotation: Rotation): Statement => {
    const shape = shapeOf(rotation);
    const key = `${shape.client}-${shape.binding}-${shape.proved}`;
    let update = updates.get(key);
    if (!update) {
      update = rotateStatement(dialect, shape);
      updates.set(key, update);
    }
    return update;
  };
  const adapter = clientAdapter(prisma);

  async function run(st: Statement, rotation: Rotation, rows: true): Promise<unknown[][]>;
  async function run(st: Statement, rotation: Rotation, rows: false): Promise<number>;
  async function run(st: Statement, rotation: Rotation, rows: boolean): Promise<unknown> {
    const args = st.params.map((p) => p.value(rotation));
    const driver = await adapter();
    if (driver) {
      const query: SqlQuery = { sql: st.sql, args, argTypes: st.argTypes };
      return rows ? (await driver.queryRaw(query)).rows : driver.executeRaw(query);
    }
    if (!rows) return prisma.$executeRawUnsafe(st.sql, ...args);
    const objects = (await prisma.$queryRawUnsafe(st.sql, ...args)) as Array<
      Record<string, unknown>
    >;
    return objects.map((row) => COLUMNS.map((column) => row[column]));
  }

  /** One rotation on its own: its unchanged columns, or `null` when refused. */
  const alone = async (rotation: Rotation): Promise<unknown[] | null> => {
    const update = updateFor(rotation);
    if (dialect !== "mysql") return (await retrying(() => run(update, rotation, true)))[0] ?? null;
    if ((await retrying(() => run(update, rotation, false))) !== 1) return null;
    return (await retrying(() => run(readBack, rotation, true)))[0] ?? null;
  };
  const connected = async () => {
    const driver = await adapter();
    if (!driver) throw new Error("the Prisma client's driver adapter was disposed of");
    return driver;
  };
  const names = { table: "tokens_sessions", column: snakeCase };
  /** With a driver adapter to share, rotations that arrive together go as one batch. */
  const batched =
    dialect === "postgresql"
      ? postgresBatchedRotate(names, {
          alone,
          answer: (columns) => columns,
          async execute(batch, args) {
            const argTypes = batch.types.map(listOf);
            return (await (await connected()).queryRaw({ sql: batch.text, args, argTypes })).rows;
          },
          isolate: refusedStatement,
        })
      : dialect === "mysql"
        ? mysqlBatchedRotate(names, {
            alone,
            answer: (columns) => columns,
            async inTransaction(update, read) {
              const transaction = await (await connected()).startTransaction();
              const query = ({ sql, values }: { sql: string; values: unknown[] }) => ({
                sql,
                args: values,
                argTypes: values.map(scalarOf),
              });
              let rows: unknown[][];
              try {
                await transaction.executeRaw(query(update));
                rows = (await transaction.queryRaw(query(read))).rows;
              } catch (error) {
                // Ends the transaction and gives its connection back.
                await transaction.rollback().catch(() => undefined);
                throw error;
              }
              await transaction.commit();
              return rows;
            },
            isolate: refusedStatement,
          })
        : undefined;

  return async (rotation) => {
    const row =
      batched && (await adapter())
        ? await retrying(() => batched(rotation))
        : await alone(rotation);
    return row ? rotated(row, rotation) : null;
  };
}
