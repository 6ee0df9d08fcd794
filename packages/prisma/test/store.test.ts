import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { createClient } from "@libsql/client";
import { PrismaLibSql } from "@prisma/adapter-libsql";
import {
  ConfigurationError,
  type Rotation,
  type SessionRecord,
  type TokenRecord,
} from "@tokens/core";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PrismaTokensClient, prismaStore } from "../src/index.js";
import { PrismaClient as PostgresClient } from "./generated/postgresql/client/client.js";
import { PrismaClient as SqliteClient } from "./generated/sqlite/client/client.js";
import { migrationScripts } from "./support/databases.js";

const HOUR = 3_600_000;

function newSession(at = Date.now()): { session: SessionRecord; token: TokenRecord } {
  const createdAt = new Date(at);
  const session: SessionRecord = {
    id: randomUUID(),
    subject: `user-${randomUUID()}`,
    clientId: "default",
    generation: 0,
    currentHash: randomUUID(),
    previousHash: null,
    sealedSuccessor: null,
    rotatedAt: null,
    createdAt,
    lastUsedAt: createdAt,
    idleExpiresAt: new Date(at + HOUR),
    expiresAt: new Date(at + 24 * HOUR),
    revokedAt: null,
    revokeReason: null,
    client: null,
    bindingKey: null,
    claims: null,
  };
  return {
    session,
    token: { hash: session.currentHash, sessionId: session.id, generation: 0, createdAt },
  };
}

function rotationOf(session: SessionRecord, expectedHash = session.currentHash): Rotation {
  const rotatedAt = new Date();
  return {
    sessionId: session.id,
    expectedHash,
    successor: {
      hash: randomUUID(),
      sessionId: session.id,
      generation: session.generation + 1,
      createdAt: rotatedAt,
    },
    sealedSuccessor: randomUUID(),
    rotatedAt,
    idleExpiresAt: new Date(rotatedAt.getTime() + HOUR),
  };
}

/** The SQL Prisma sends, as its query log reports it (transaction control included). */
function recordQueries(prisma: {
  $on(event: "query", listener: (event: { query: string }) => void): void;
}) {
  const queries: string[] = [];
  prisma.$on("query", (event) => queries.push(event.query));
  return {
    during: async (run: () => Promise<unknown>) => {
      queries.length = 0;
      await run();
      return [...queries];
    },
  };
}

describe("prismaStore on PostgreSQL (PGlite)", () => {
  let db: PGlite;
  let prisma: PostgresClient<"query">;
  beforeAll(async () => {
    db = new PGlite();
    for (const script of migrationScripts("postgresql")) await db.exec(script);
    prisma = new PostgresClient({
      adapter: new PrismaPGlite(db),
      log: [{ emit: "event", level: "query" }],
    });
  });
  afterAll(async () => {
    await prisma.$disconnect();
    await db.close();
  });

  it("rotates with a single statement and finds a token with a single query", async () => {
    const store = prismaStore(prisma);
    const log = recordQueries(prisma);
    const { session, token } = newSession();
    await store.createSession(session, token);

    const rotation = rotationOf(session);
    const rotate = await log.during(async () => expect(await store.rotate(rotation)).toBe(true));
    expect(rotate).toHaveLength(1);
    expect(rotate[0]).toMatch(/^\s*WITH spent AS \(\s*UPDATE tokens_sessions/);

    const find = await log.during(async () =>
      expect((await store.findToken(rotation.successor.hash))?.session.currentHash).toBe(
        rotation.successor.hash,
      ),
    );
    expect(find).toHaveLength(1);
  });

  it("a rotation that loses the compare-and-set writes nothing, not even the successor row", async () => {
    const store = prismaStore(prisma);
    const { session, token } = newSession();
    await store.createSession(session, token);
    const stale = rotationOf(session, randomUUID());
    expect(await store.rotate(stale)).toBe(false);
    expect(await store.findToken(stale.successor.hash)).toBeNull();
    expect(await store.getSession(session.id)).toMatchObject({
      generation: 0,
      currentHash: token.hash,
    });
  });

  it("works through a client extended with $extends", async () => {
    const extended = prisma.$extends({
      query: { $allModels: { $allOperations: ({ args, query }) => query(args) } },
    });
    const store = prismaStore(extended);
    const log = recordQueries(prisma);
    const { session, token } = newSession();
    await store.createSession(session, token);
    // Still recognised as PostgreSQL: the rotation is the single statement.
    const rotate = await log.during(async () =>
      expect(await store.rotate(rotationOf(session))).toBe(true),
    );
    expect(rotate).toHaveLength(1);
    expect(await store.getSession(session.id)).toMatchObject({
      generation: 1,
      previousHash: token.hash,
    });
  });

  it('dialect "portable" rotates with one conditional update and one insert in a transaction', async () => {
    const store = prismaStore(prisma, { dialect: "portable" });
    const log = recordQueries(prisma);
    const { session, token } = newSession();
    await store.createSession(session, token);

    const rotation = rotationOf(session);
    const won = await log.during(async () => expect(await store.rotate(rotation)).toBe(true));
    expect(
      won.filter((sql) => /^(UPDATE|INSERT)/.test(sql)).map((sql) => sql.split(" ")[0]),
    ).toEqual(["UPDATE", "INSERT"]);
    const lost = await log.during(async () =>
      expect(await store.rotate(rotationOf(session))).toBe(false),
    );
    expect(lost.filter((sql) => /^INSERT/.test(sql))).toEqual([]);
    expect(await store.findToken(rotation.successor.hash)).toMatchObject({
      token: { generation: 1 },
    });
  });
});

describe("prismaStore on SQLite (libSQL)", () => {
  let dir: string;
  let prisma: SqliteClient;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tokens-prisma-"));
    const url = `file:${join(dir, "tokens.db")}`;
    const setup = createClient({ url });
    for (const script of migrationScripts("sqlite")) await setup.executeMultiple(script);
    setup.close();
    prisma = new SqliteClient({ adapter: new PrismaLibSql({ url }) });
  });
  afterAll(async () => {
    await prisma.$disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it("purge with a limit below 1 (or not a number) deletes nothing", async () => {
    const store = prismaStore(prisma);
    const { session, token } = newSession(Date.now() - 48 * HOUR);
    await store.createSession(session, token);
    const later = new Date();
    for (const limit of [0, -5, 0.5, Number.NaN]) expect(await store.purge(later, limit)).toBe(0);
    expect(await store.getSession(session.id)).not.toBeNull();
    expect(await store.purge(later, 1_000)).toBeGreaterThanOrEqual(1);
    expect(await store.getSession(session.id)).toBeNull();
    expect(await store.findToken(token.hash)).toBeNull();
  });

  it("a session whose first token hash is taken is not stored (createSession is all-or-nothing)", async () => {
    const store = prismaStore(prisma);
    const first = newSession();
    await store.createSession(first.session, first.token);
    const second = newSession();
    const clash = { ...second.token, hash: first.token.hash };
    await expect(store.createSession(second.session, clash)).rejects.toMatchObject({
      name: "StoreUnavailableError",
      reason: "store_unavailable",
      cause: expect.any(Error),
    });
    expect(await store.getSession(second.session.id)).toBeNull();
  });
});

describe("prismaStore configuration", () => {
  const client = () =>
    new SqliteClient({
      adapter: new PrismaLibSql({ url: "file::memory:" }),
    }) as unknown as PrismaTokensClient;

  it("refuses something that is not a Prisma client with the models", () => {
    for (const value of [undefined, null, 42, "prisma", {}]) {
      expect(() => prismaStore(value as never)).toThrow(ConfigurationError);
    }
    const withoutTokens = { tokensSession: {}, $transaction: () => undefined };
    expect(() => prismaStore(withoutTokens as never)).toThrow(/tokensRefreshToken model/);
  });

  it("refuses an interactive-transaction client (it cannot open transactions)", () => {
    const { tokensSession, tokensRefreshToken } = client();
    expect(() => prismaStore({ tokensSession, tokensRefreshToken } as never)).toThrow(
      /transaction client/,
    );
  });

  it("refuses unknown options values", () => {
    expect(() => prismaStore(client(), { dialect: "oracle" as never })).toThrow(ConfigurationError);
    for (const transaction of [
      null,
      5,
      { maxWait: 0 },
      { timeout: -1 },
      { timeout: Number.POSITIVE_INFINITY },
    ]) {
      expect(() => prismaStore(client(), { transaction: transaction as never })).toThrow(
        ConfigurationError,
      );
    }
    expect(() =>
      prismaStore(client(), {
        dialect: "portable",
        transaction: { maxWait: 5_000, timeout: 10_000 },
      }),
    ).not.toThrow();
  });
});
