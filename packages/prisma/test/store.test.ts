import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PrismaLibSql } from "@prisma/adapter-libsql";
import { ConfigurationError } from "@tokens/core";
import { sessionRecord } from "@tokens/core/testing";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PrismaTokensClient, prismaStore } from "../src/index.js";
import { PrismaClient as PostgresClient } from "./generated/postgresql/client/client.js";
import { PrismaClient as SqliteClient } from "./generated/sqlite/client/client.js";
import { migrationScripts } from "./support/databases.js";
import { recordingAdapter, rotationOf, sentDuring } from "./support/records.js";

const HOUR = 3_600_000;

describe("prismaStore on PostgreSQL (PGlite)", () => {
  let db: PGlite;
  let prisma: PostgresClient<"query">;
  let statements: string[];
  const queries: string[] = [];
  beforeAll(async () => {
    db = new PGlite();
    for (const script of migrationScripts("postgresql")) await db.exec(script);
    const recorded = recordingAdapter(new PrismaPGlite(db));
    statements = recorded.statements;
    prisma = new PostgresClient({
      adapter: recorded.adapter,
      log: [{ emit: "event", level: "query" }],
    });
    prisma.$on("query", (event) => queries.push(event.query));
  });
  afterAll(async () => {
    await prisma.$disconnect();
    await db.close();
  });

  it("rotates with one UPDATE … RETURNING sent to the driver adapter, past the query pipeline", async () => {
    const store = prismaStore(prisma);
    const session = sessionRecord();
    await store.createSession(session);
    const rotation = rotationOf(session);
    queries.length = 0;
    const sent = await sentDuring(statements, async () =>
      expect(await store.rotate(rotation)).toMatchObject({
        generation: 1,
        previousHash: session.currentHash,
        currentHash: rotation.successorHash,
      }),
    );
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatch(/^UPDATE tokens_sessions SET .* WHERE id = \$\d+ .* RETURNING /);
    expect(queries).toEqual([]);
  });

  it("rotations that arrive together go as one statement, each its own", async () => {
    const store = prismaStore(prisma);
    const sessions = [sessionRecord(), sessionRecord(), sessionRecord()];
    for (const session of sessions) await store.createSession(session);
    const rotations = sessions.map((session) => rotationOf(session));
    const sent = await sentDuring(statements, async () => {
      const rotated = await Promise.all(rotations.map((rotation) => store.rotate(rotation)));
      expect(rotated.map((session) => session?.currentHash)).toEqual(
        rotations.map((rotation) => rotation.successorHash),
      );
    });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatch(
      /^UPDATE "tokens_sessions" AS s SET .* FROM unnest\(.*\) .* WHERE s\."id" = v\."sessionId" .* RETURNING /,
    );
  });

  it("a refused rotation is the same one statement and writes nothing", async () => {
    const store = prismaStore(prisma);
    const session = sessionRecord();
    await store.createSession(session);
    const sent = await sentDuring(statements, async () =>
      expect(await store.rotate(rotationOf(session, "not-the-live-hash"))).toBeNull(),
    );
    expect(sent).toHaveLength(1);
    expect(await store.getSession(session.id)).toMatchObject({
      generation: 0,
      currentHash: session.currentHash,
    });
  });

  it("works through a client extended with $extends, still in one statement", async () => {
    const extended = prisma.$extends({
      query: { $allModels: { $allOperations: ({ args, query }) => query(args) } },
    });
    const store = prismaStore(extended);
    const session = sessionRecord();
    await store.createSession(session);
    const sent = await sentDuring(statements, () => store.rotate(rotationOf(session)));
    expect(sent).toHaveLength(1);
    expect(await store.getSession(session.id)).toMatchObject({ generation: 1 });
  });

  it('dialect "portable" rotates with a findUnique and a conditional updateMany, no transaction', async () => {
    const store = prismaStore(prisma, { dialect: "portable" });
    const session = sessionRecord();
    await store.createSession(session);
    const rotation = rotationOf(session);
    const won = await sentDuring(statements, async () =>
      expect(await store.rotate(rotation)).toMatchObject({ currentHash: rotation.successorHash }),
    );
    expect(won.map((sql) => sql.split(" ")[0])).toEqual(["SELECT", "UPDATE"]);
    expect(await store.rotate(rotationOf(session))).toBeNull();
  });
});

describe("prismaStore on SQLite (libSQL)", () => {
  let dir: string;
  let url: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tokens-prisma-"));
    url = `file:${join(dir, "tokens.db")}`;
    const setup = await new PrismaLibSql({ url }).connect();
    await setup.executeScript(migrationScripts("sqlite").join("\n"));
    await setup.dispose();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("rotates with one UPDATE … RETURNING sent to the driver adapter", async () => {
    const { adapter, statements } = recordingAdapter(new PrismaLibSql({ url }));
    const prisma = new SqliteClient({ adapter });
    const store = prismaStore(prisma);
    const session = sessionRecord();
    await store.createSession(session);
    const sent = await sentDuring(statements, () => store.rotate(rotationOf(session)));
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatch(/^UPDATE tokens_sessions SET .* RETURNING /);
    await prisma.$disconnect();
  });

  it("a client that connected before the store was created still rotates (through $queryRawUnsafe)", async () => {
    const prisma = new SqliteClient({ adapter: new PrismaLibSql({ url }) });
    await prisma.$connect();
    const store = prismaStore(prisma);
    const session = sessionRecord();
    await store.createSession(session);
    const rotation = rotationOf(session);
    expect(await store.rotate(rotation)).toMatchObject({
      generation: 1,
      currentHash: rotation.successorHash,
    });
    expect(await store.rotate(rotation)).toBeNull();
    await prisma.$disconnect();
  });

  it("after $disconnect the store reconnects with the client", async () => {
    const prisma = new SqliteClient({ adapter: new PrismaLibSql({ url }) });
    const store = prismaStore(prisma);
    const session = sessionRecord();
    await store.createSession(session);
    await prisma.$disconnect();
    expect(await store.rotate(rotationOf(session))).toMatchObject({ generation: 1 });
    await prisma.$disconnect();
  });

  it("purge with a limit below 1 (or not a number) deletes nothing", async () => {
    const prisma = new SqliteClient({ adapter: new PrismaLibSql({ url }) });
    const store = prismaStore(prisma);
    const session = sessionRecord({ at: Date.now() - 48 * HOUR });
    await store.createSession(session);
    const later = new Date();
    for (const limit of [0, -5, 0.5, Number.NaN]) expect(await store.purge(later, limit)).toBe(0);
    expect(await store.getSession(session.id)).not.toBeNull();
    expect(await store.purge(later, 1_000)).toBeGreaterThanOrEqual(1);
    expect(await store.getSession(session.id)).toBeNull();
    await prisma.$disconnect();
  });
});

describe("prismaStore configuration", () => {
  const client = () =>
    new SqliteClient({
      adapter: new PrismaLibSql({ url: "file::memory:" }),
    }) as unknown as PrismaTokensClient;

  it("refuses something that is not a Prisma client with the model", () => {
    for (const value of [undefined, null, 42, "prisma", {}]) {
      expect(() => prismaStore(value as never)).toThrow(ConfigurationError);
    }
    expect(() => prismaStore({ $transaction: () => undefined } as never)).toThrow(
      /tokensSession model/,
    );
  });

  it("refuses an interactive-transaction client", () => {
    const { tokensSession } = client();
    expect(() => prismaStore({ tokensSession } as never)).toThrow(/transaction client/);
  });

  it("refuses an unknown dialect", () => {
    expect(() => prismaStore(client(), { dialect: "oracle" as never })).toThrow(ConfigurationError);
    expect(() => prismaStore(client(), { dialect: "portable" })).not.toThrow();
  });
});
