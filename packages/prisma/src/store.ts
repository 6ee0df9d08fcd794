import {
  type ClientContext,
  ConfigurationError,
  type LiveRotation,
  type Rotation,
  type SessionRecord,
  StoreUnavailableError,
  type TokenRecord,
  type TokenStore,
  type TokenWithSession,
} from "@tokens/core";
import type {
  JsonObjectInput,
  PrismaTokensClient,
  TokensSessionRow,
  TokensSessionWhere,
} from "./client.js";
import {
  fromSessionSqlRow,
  type LiveDialect,
  rotateLiveSql,
  type SessionSqlRow,
} from "./live-rotation.js";

/**
 * Options of {@link prismaStore}.
 *
 * @example
 * ```ts
 * // Tables in a PostgreSQL schema outside the search_path, and a busy MySQL pool:
 * const store = prismaStore(prisma, { dialect: "portable", transaction: { maxWait: 5_000 } });
 * ```
 */
export interface PrismaStoreOptions {
  /**
   * How the store phrases its hot queries.
   *
   * - `"postgresql"`: `rotate` and `rotateLive` are single SQL statements (an
   *   `UPDATE … RETURNING` feeding an `INSERT`, no transaction) and `findToken` a single join,
   *   all via `$executeRaw`/`$queryRaw` on the tables `tokens_sessions` and
   *   `tokens_refresh_tokens` as the connection's `search_path` resolves them.
   * - `"mysql"`, `"sqlite"`: `rotateLive` is raw SQL on those tables (SQLite: one batch
   *   transaction; MySQL: three single statements, no transaction); the other methods are model
   *   queries, as in `"portable"`.
   * - `"portable"`: Prisma model queries only; `rotate` is an interactive transaction of one
   *   conditional `updateMany` and one `create`, and there is no `rotateLive` (core then reads
   *   the token and rotates in two calls). Works on every provider and schema.
   *
   * Default: the provider the client was generated for, else `"portable"`. Choose
   * `"portable"` if the tables live in a schema or database the connection does not resolve by
   * default.
   */
  dialect?: "postgresql" | "mysql" | "sqlite" | "portable";
  /**
   * Limits, in milliseconds, of the interactive transactions the store opens (`rotate` on the
   * portable path, `purge`): `maxWait` to get a connection, `timeout` for the whole transaction.
   * Default: Prisma's (2 000 and 5 000).
   */
  transaction?: { maxWait?: number; timeout?: number };
}

/**
 * A {@link TokenStore} on a Prisma 7 client: PostgreSQL, MySQL/MariaDB or SQLite, through any
 * driver adapter (`@prisma/adapter-pg`, `@prisma/adapter-mariadb`, `@prisma/adapter-libsql`,
 * PGlite…). The client's schema must contain the `TokensSession` and `TokensRefreshToken`
 * models of this package's schema fragment, and the database its tables.
 *
 * Every database or driver failure surfaces as `StoreUnavailableError` with the Prisma error
 * as `cause`; `rotate` and `rotateLive` are one statement or one transaction, so they are never
 * left half done.
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
  const transaction = transactionOptions(options.transaction);

  return {
    createSession: (session, token) =>
      guard("createSession", async () => {
        // One nested write: Prisma inserts both rows in one transaction.
        await prisma.tokensSession.create({
          data: {
            // Field by field: a record carrying anything more would fail Prisma's validation.
            id: session.id,
            subject: session.subject,
            clientId: session.clientId,
            generation: session.generation,
            currentHash: session.currentHash,
            previousHash: session.previousHash,
            sealedSuccessor: session.sealedSuccessor,
            rotatedAt: session.rotatedAt,
            createdAt: session.createdAt,
            lastUsedAt: session.lastUsedAt,
            idleExpiresAt: session.idleExpiresAt,
            expiresAt: session.expiresAt,
            revokedAt: session.revokedAt,
            revokeReason: session.revokeReason,
            client: jsonValue(session.client),
            bindingKey: session.bindingKey ?? null,
            claims: jsonValue(session.claims),
            tokens: {
              create: {
                hash: token.hash,
                generation: token.generation,
                createdAt: token.createdAt,
              },
            },
          },
          select: { id: true },
        });
      }),

    findToken: (hash) =>
      guard("findToken", async () => {
        if (dialect === "postgresql") {
          const rows = (await prisma.$queryRaw`
            SELECT t.hash, t.generation AS token_generation, t.created_at AS token_created_at,
                   s.id, s.subject, s.client_id, s.generation, s.current_hash, s.previous_hash,
                   s.sealed_successor, s.rotated_at, s.created_at, s.last_used_at,
                   s.idle_expires_at, s.expires_at, s.revoked_at, s.revoke_reason, s.client,
                   s.binding_key, s.claims
              FROM tokens_refresh_tokens t
              JOIN tokens_sessions s ON s.id = t.session_id
             WHERE t.hash = ${hash}`) as PgTokenWithSessionRow[];
          const row = rows[0];
          return row ? fromPgRow(row) : null;
        }
        const row = await prisma.tokensRefreshToken.findUnique({
          where: { hash },
          include: { session: true },
        });
        // Two reads without a transaction: a purge may remove the session in between.
        if (!row?.session) return null;
        const { session, ...token } = row;
        return { token: toToken(token), session: toSession(session) };
      }),

    rotate: (rotation) =>
      guard("rotate", async () => {
        if (dialect === "postgresql") return (await rotateInOneStatement(prisma, rotation)) === 1;
        return prisma.$transaction(async (tx) => {
          // The conditional update is the compare-and-set: concurrent callers queue on the row
          // lock and re-check `currentHash` once the winner commits, so exactly one matches.
          const { count } = await tx.tokensSession.updateMany({
            where: { id: rotation.sessionId, currentHash: rotation.expectedHash, revokedAt: null },
            data: spend(rotation),
          });
          if (count !== 1) return false;
          const { successor } = rotation;
          await tx.tokensRefreshToken.create({
            data: {
              hash: successor.hash,
              sessionId: rotation.sessionId,
              generation: successor.generation,
              createdAt: successor.createdAt,
            },
          });
          return true;
        }, transaction);
      }),

    ...(dialect !== "portable" && {
      rotateLive: (rotation: LiveRotation) =>
        guard("rotateLive", async () => {
          const row = await rotateLiveSql(prisma, dialect, rotation);
          return row ? fromSessionSqlRow(row) : null;
        }),
    }),

    getSession: (id) =>
      guard("getSession", async () => {
        const row = await prisma.tokensSession.findUnique({ where: { id } });
        return row ? toSession(row) : null;
      }),

    listSessions: (subject, now) =>
      guard("listSessions", async () => {
        const rows = await prisma.tokensSession.findMany({
          where: { subject, revokedAt: null, idleExpiresAt: { gt: now }, expiresAt: { gt: now } },
          orderBy: [{ createdAt: "asc" }, { id: "asc" }],
        });
        return rows.map(toSession);
      }),

    revokeSession: (id, at, reason) =>
      guard("revokeSession", async () => {
        const { count } = await prisma.tokensSession.updateMany({
          where: { id, revokedAt: null },
          data: { revokedAt: at, revokeReason: reason },
        });
        return count === 1;
      }),

    revokeSubject: (subject, at, reason) =>
      guard("revokeSubject", async () => {
        const { count } = await prisma.tokensSession.updateMany({
          where: { subject, revokedAt: null },
          data: { revokedAt: at, revokeReason: reason },
        });
        return count;
      }),

    purge: (before, limit) =>
      guard("purge", async () => {
        // A non-positive `take` would page backwards in Prisma; a bad limit purges nothing.
        const take = Math.floor(limit);
        if (!(take > 0)) return 0;
        const ended: TokensSessionWhere = {
          OR: [
            { revokedAt: { lt: before } },
            { idleExpiresAt: { lt: before } },
            { expiresAt: { lt: before } },
          ],
        };
        return prisma.$transaction(async (tx) => {
          const batch = await tx.tokensSession.findMany({ where: ended, take });
          if (batch.length === 0) return 0;
          const ids = batch.map((session) => session.id);
          // Tokens first (the foreign key), and both deletes re-check that the session has
          // ended, so a session that changed since the read keeps its rows.
          await tx.tokensRefreshToken.deleteMany({
            where: { sessionId: { in: ids }, session: ended },
          });
          const { count } = await tx.tokensSession.deleteMany({
            where: { id: { in: ids }, ...ended },
          });
          return count;
        }, transaction);
      }),
  };
}

/** The session columns a rotation sets, besides the token row it inserts. */
function spend(rotation: Rotation) {
  return {
    generation: { increment: 1 },
    previousHash: rotation.expectedHash,
    currentHash: rotation.successor.hash,
    sealedSuccessor: rotation.sealedSuccessor,
    rotatedAt: rotation.rotatedAt,
    lastUsedAt: rotation.rotatedAt,
    idleExpiresAt: rotation.idleExpiresAt,
  };
}

/**
 * PostgreSQL: the compare-and-set and the insert in one statement, hence atomic without a
 * transaction. Under READ COMMITTED a concurrent caller blocks on the row lock, re-evaluates the
 * `WHERE` against the winner's row and updates nothing, so its `INSERT … SELECT` inserts nothing.
 * Resolves the number of token rows inserted: 1 for the winner, 0 otherwise.
 */
function rotateInOneStatement(prisma: PrismaTokensClient, rotation: Rotation): PromiseLike<number> {
  const { successor } = rotation;
  return prisma.$executeRaw`
    WITH spent AS (
      UPDATE tokens_sessions
         SET generation = generation + 1,
             previous_hash = current_hash,
             current_hash = ${successor.hash},
             sealed_successor = ${rotation.sealedSuccessor},
             rotated_at = ${rotation.rotatedAt}::timestamptz,
             last_used_at = ${rotation.rotatedAt}::timestamptz,
             idle_expires_at = ${rotation.idleExpiresAt}::timestamptz
       WHERE id = ${rotation.sessionId}
         AND current_hash = ${rotation.expectedHash}
         AND revoked_at IS NULL
      RETURNING id
    )
    INSERT INTO tokens_refresh_tokens (hash, session_id, generation, created_at)
    SELECT ${successor.hash}, id, ${successor.generation}::integer, ${successor.createdAt}::timestamptz
      FROM spent`;
}

/** A row of the PostgreSQL `findToken` join: the session's columns plus the token's. */
interface PgTokenWithSessionRow extends SessionSqlRow {
  hash: string;
  token_generation: number;
  token_created_at: Date;
}

function fromPgRow(row: PgTokenWithSessionRow): TokenWithSession {
  return {
    token: toToken({
      hash: row.hash,
      sessionId: row.id,
      generation: row.token_generation,
      createdAt: row.token_created_at,
    }),
    session: fromSessionSqlRow(row),
  };
}

function toToken(row: TokenRecord): TokenRecord {
  return {
    hash: row.hash,
    sessionId: row.sessionId,
    generation: row.generation,
    createdAt: row.createdAt,
  };
}

function toSession(row: TokensSessionRow): SessionRecord {
  return {
    id: row.id,
    subject: row.subject,
    clientId: row.clientId,
    generation: row.generation,
    currentHash: row.currentHash,
    previousHash: row.previousHash,
    sealedSuccessor: row.sealedSuccessor,
    rotatedAt: row.rotatedAt,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    idleExpiresAt: row.idleExpiresAt,
    expiresAt: row.expiresAt,
    revokedAt: row.revokedAt,
    revokeReason: row.revokeReason,
    // Json columns come back parsed; SQL NULL comes back as null.
    client: (row.client ?? null) as ClientContext | null,
    bindingKey: row.bindingKey ?? null,
    claims: (row.claims ?? null) as Record<string, unknown> | null,
  };
}

/** `undefined` leaves a nullable Json column SQL NULL: Prisma refuses a plain `null` there. */
function jsonValue(value: object | null): JsonObjectInput | undefined {
  return value === null ? undefined : (value as JsonObjectInput);
}

/** Runs a store operation; any failure of Prisma, the adapter or the driver becomes typed. */
async function guard<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (cause) {
    throw new StoreUnavailableError(`Prisma store failed during ${operation}`, { cause });
  }
}

function checkClient(prisma: PrismaTokensClient): void {
  const client = prisma as unknown as Record<string, unknown> | null | undefined;
  if (typeof client !== "object" || client === null) {
    throw new ConfigurationError("prismaStore needs a Prisma client");
  }
  for (const model of ["tokensSession", "tokensRefreshToken"]) {
    if (typeof client[model] !== "object" || client[model] === null) {
      throw new ConfigurationError(
        `The Prisma client has no ${model} model: add the @tokens/prisma schema fragment to schema.prisma and run \`prisma generate\``,
      );
    }
  }
  if (typeof client.$transaction !== "function") {
    throw new ConfigurationError("prismaStore needs a Prisma client, not a transaction client");
  }
}

const DIALECTS = ["postgresql", "mysql", "sqlite", "portable"] as const;

function resolveDialect(prisma: PrismaTokensClient, dialect: unknown): LiveDialect | "portable" {
  if (DIALECTS.includes(dialect as never)) return dialect as LiveDialect | "portable";
  if (dialect !== undefined) {
    throw new ConfigurationError(
      `dialect must be one of ${DIALECTS.map((d) => `"${d}"`).join(", ")}, got ${String(dialect)}`,
    );
  }
  // Prisma clients carry the schema's datasource provider; not part of the typed API, so anything
  // unexpected falls back to the portable queries, which are correct everywhere.
  const provider = (prisma as { _activeProvider?: unknown })._activeProvider;
  return DIALECTS.includes(provider as never) ? (provider as LiveDialect) : "portable";
}

function transactionOptions(options: unknown): { maxWait?: number; timeout?: number } | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== "object" || options === null) {
    throw new ConfigurationError("transaction must be an object { maxWait?, timeout? }");
  }
  const { maxWait, timeout } = options as Record<string, unknown>;
  for (const [name, value] of [
    ["maxWait", maxWait],
    ["timeout", timeout],
  ] as const) {
    if (
      value !== undefined &&
      !(typeof value === "number" && Number.isFinite(value) && value > 0)
    ) {
      throw new ConfigurationError(`transaction.${name} must be a positive number of milliseconds`);
    }
  }
  return {
    ...(maxWait === undefined ? {} : { maxWait: maxWait as number }),
    ...(timeout === undefined ? {} : { timeout: timeout as number }),
  };
}
