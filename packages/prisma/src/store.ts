import {
  type ClientContext,
  ConfigurationError,
  type Rotation,
  rotatedSession,
  type SessionRecord,
  StoreUnavailableError,
  sessionFields,
  type TokenStore,
} from "@tokens/core";
import type {
  JsonObjectInput,
  PrismaTokensClient,
  TokensSessionRow,
  TokensSessionWhere,
} from "./client.js";
import { retrying, type SqlDialect, sqlRotation } from "./rotation.js";

/**
 * Options of {@link prismaStore}.
 *
 * @example
 * ```ts
 * // Tables in a PostgreSQL schema outside the search_path:
 * const store = prismaStore(prisma, { dialect: "portable" });
 * ```
 */
export interface PrismaStoreOptions {
  /**
   * How the store phrases `rotate`, the one write of a refresh.
   *
   * - `"postgresql"`, `"sqlite"`: one `UPDATE tokens_sessions … WHERE id = … RETURNING`.
   * - `"mysql"`: the `UPDATE` by primary key, then (when it rotated) a `SELECT` of the row by id
   *   and the successor's hash.
   * - `"portable"`: Prisma model queries only: a `findUnique` of the session, then a conditional
   *   `updateMany` by primary key. Works on every provider and schema.
   *
   * The SQL dialects name the table `tokens_sessions` as the connection resolves it and send the
   * statement straight to the client's driver adapter (see the README, "Speed"). Every other
   * method is a model query in every dialect.
   *
   * Default: the provider the client was generated for, else `"portable"`. Choose `"portable"`
   * if the table lives in a schema or database the connection does not resolve by default.
   */
  dialect?: SqlDialect | "portable";
}

/**
 * A {@link TokenStore} on a Prisma 7 client: PostgreSQL, MySQL/MariaDB or SQLite, through any
 * driver adapter (`@prisma/adapter-pg`, `@prisma/adapter-mariadb`, `@prisma/adapter-libsql`,
 * `@prisma/adapter-better-sqlite3`, PGlite…). The client's schema must contain the
 * `TokensSession` model of this package's schema fragment, and the database its table (one row
 * per session).
 *
 * A refresh is one conditional UPDATE of the session row by primary key, sent to the client's
 * own driver adapter past Prisma's query pipeline. Create the store before the client's first
 * query so that it can share the adapter's connections; otherwise the statement goes through
 * `$queryRawUnsafe`. Every database or driver failure surfaces as `StoreUnavailableError` with
 * the Prisma or driver error as `cause`; every method is one statement or one transaction, and
 * deadlocks and lock wait timeouts are retried inside the store.
 *
 * @example
 * ```ts
 * import { PrismaPg } from "@prisma/adapter-pg";
 * import { createTokens } from "@tokens/core";
 * import { prismaStore } from "@tokens/prisma";
 * import { PrismaClient } from "./generated/prisma/client";
 *
 * const prisma = new PrismaClient({
 *   adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL }),
 * });
 *
 * const tokens = createTokens({
 *   issuer: "https://auth.example.com",
 *   audience: "api",
 *   keys: [signingKey],
 *   store: prismaStore(prisma),
 * });
 * ```
 */
export function prismaStore(
  prisma: PrismaTokensClient,
  options: PrismaStoreOptions = {},
): TokenStore {
  checkClient(prisma);
  const dialect = resolveDialect(prisma, options.dialect);
  const rotate = dialect === "portable" ? modelRotation(prisma) : sqlRotation(prisma, dialect);
  const sessions = prisma.tokensSession;

  /**
   * Revokes the matching not-yet-revoked sessions, lowering `purgeAfter` to `at` where it is
   * later: two conditional updates in one transaction (a model update cannot take a minimum).
   */
  const revoke = async (where: TokensSessionWhere, at: Date, reason: string) => {
    const revoked = { revokedAt: at, revokeReason: reason };
    const [lowered, kept] = (await prisma.$transaction([
      sessions.updateMany({
        where: { ...where, revokedAt: null, purgeAfter: { gt: at } },
        data: { ...revoked, purgeAfter: at },
      }),
      sessions.updateMany({ where: { ...where, revokedAt: null }, data: revoked }),
    ])) as Array<{ count: number }>;
    return (lowered?.count ?? 0) + (kept?.count ?? 0);
  };

  return {
    createSession: (session) =>
      guard("createSession", async () => {
        // Field by field: a record carrying anything more would fail Prisma's validation.
        const { client, claims, ...fields } = sessionFields(session);
        await sessions.create({
          data: { ...fields, client: jsonValue(client), claims: jsonValue(claims) },
          select: { id: true },
        });
      }),

    getSession: (id) =>
      guard("getSession", async () => {
        const row = await sessions.findUnique({ where: { id } });
        return row ? toSession(row) : null;
      }),

    // Retried statement by statement inside: a retry of the whole could follow its own write.
    rotate: (rotation) => guard("rotate", () => rotate(rotation), false),

    listSessions: (subject, now) =>
      guard("listSessions", async () => {
        const rows = await sessions.findMany({
          where: { subject, revokedAt: null, idleExpiresAt: { gt: now }, expiresAt: { gt: now } },
          orderBy: [{ createdAt: "asc" }, { id: "asc" }],
        });
        return rows.map(toSession);
      }),

    revokeSession: (id, at, reason) =>
      guard("revokeSession", async () => (await revoke({ id }, at, reason)) === 1),

    revokeSubject: (subject, at, reason) =>
      guard("revokeSubject", () => revoke({ subject }, at, reason)),

    purge: (before, limit) =>
      guard("purge", async () => {
        // A non-positive `take` would page backwards in Prisma; a bad limit purges nothing.
        const take = Math.floor(limit);
        if (!(take > 0)) return 0;
        // Candidates through the purge_after index, then the exact condition on those rows.
        const ended: TokensSessionWhere = {
          purgeAfter: { lt: before },
          OR: [
            { revokedAt: { lt: before } },
            { idleExpiresAt: { lt: before } },
            { expiresAt: { lt: before } },
          ],
        };
        const batch = await sessions.findMany({ where: ended, take, select: { id: true } });
        if (batch.length === 0) return 0;
        // The delete checks again: a session rotated since the read stays.
        const ids = batch.map((session) => session.id);
        const { count } = await sessions.deleteMany({ where: { id: { in: ids }, ...ended } });
        return count;
      }),
  };
}

/**
 * `rotate` through model queries: read the session, then the compare-and-set as a conditional
 * `updateMany` by primary key. No transaction is needed: of the columns read, only `expiresAt`
 * is used, and it never changes; the update's WHERE holds every check, so exactly one of
 * concurrent callers matches, and the row after its write is the row read with its changes.
 */
function modelRotation(prisma: PrismaTokensClient) {
  const sessions = prisma.tokensSession;
  return async (rotation: Rotation): Promise<SessionRecord | null> => {
    const found = await retrying(() => sessions.findUnique({ where: { id: rotation.sessionId } }));
    if (!found) return null;
    const at = rotation.rotatedAt;
    const rotated = rotatedSession(toSession(found), rotation);
    const { count } = await retrying(() =>
      sessions.updateMany({
        where: {
          id: rotation.sessionId,
          currentHash: rotation.expectedHash,
          revokedAt: null,
          expiresAt: { gt: at },
          idleExpiresAt: { gt: at },
          ...(rotation.clientId === undefined ? {} : { clientId: rotation.clientId }),
          ...(rotation.bindingKey === undefined ? {} : { bindingKey: rotation.bindingKey }),
          ...(rotation.dpopJkt === null
            ? { dpopJkt: null }
            : { OR: [{ dpopJkt: null }, { dpopJkt: rotation.dpopJkt }] }),
        },
        data: {
          generation: rotated.generation,
          previousHash: rotated.previousHash,
          currentHash: rotated.currentHash,
          sealedSuccessor: rotated.sealedSuccessor,
          rotatedAt: at,
          lastUsedAt: at,
          idleExpiresAt: rotated.idleExpiresAt,
          purgeAfter: rotated.purgeAfter,
        },
      }),
    );
    return count === 1 ? rotated : null;
  };
}

function toSession(row: TokensSessionRow): SessionRecord {
  const { client, claims, ...fields } = row;
  return {
    ...sessionFields({ ...fields, client: null, claims: null }),
    // Json columns come back parsed; SQL NULL comes back as null.
    client: (client ?? null) as ClientContext | null,
    claims: (claims ?? null) as Record<string, unknown> | null,
  };
}

/** `undefined` leaves a nullable Json column SQL NULL: Prisma refuses a plain `null` there. */
function jsonValue(value: object | null): JsonObjectInput | undefined {
  return value === null ? undefined : (value as JsonObjectInput);
}

/**
 * Runs a store operation; any failure of Prisma, the adapter or the driver becomes typed. A
 * single-statement or single-transaction operation is run again after a transient conflict
 * (`retry`); one of several autocommitted statements retries each statement itself.
 */
async function guard<T>(operation: string, run: () => Promise<T>, retry = true): Promise<T> {
  try {
    return await (retry ? retrying(run) : run());
  } catch (cause) {
    throw new StoreUnavailableError(`Prisma store failed during ${operation}`, { cause });
  }
}

function checkClient(prisma: PrismaTokensClient): void {
  const client = prisma as unknown as Record<string, unknown> | null | undefined;
  if (typeof client !== "object" || client === null) {
    throw new ConfigurationError("prismaStore needs a Prisma client");
  }
  if (typeof client.tokensSession !== "object" || client.tokensSession === null) {
    throw new ConfigurationError(
      "The Prisma client has no tokensSession model: add the @tokens/prisma schema fragment to schema.prisma and run `prisma generate`",
    );
  }
  if (typeof client.$transaction !== "function") {
    throw new ConfigurationError("prismaStore needs a Prisma client, not a transaction client");
  }
}

const DIALECTS = ["postgresql", "mysql", "sqlite", "portable"] as const;

function resolveDialect(prisma: PrismaTokensClient, dialect: unknown): SqlDialect | "portable" {
  if (DIALECTS.includes(dialect as never)) return dialect as SqlDialect | "portable";
  if (dialect !== undefined) {
    throw new ConfigurationError(
      `dialect must be one of ${DIALECTS.map((d) => `"${d}"`).join(", ")}, got ${String(dialect)}`,
    );
  }
  // Prisma clients carry the schema's datasource provider; not part of the typed API, so anything
  // unexpected falls back to the portable queries, which are correct everywhere.
  const provider = (prisma as { _activeProvider?: unknown })._activeProvider;
  return DIALECTS.includes(provider as never) ? (provider as SqlDialect) : "portable";
}
