// The store over the real driver where no MongoDB answers: failures must come out typed, and
// input that must never reach a query is answered before any network call.
import {
  ConfigurationError,
  InvalidRequestError,
  type Rotation,
  type SessionRecord,
  StoreUnavailableError,
  type TokenStore,
} from "@tokens/core";
import { MongoClient } from "mongodb";
import { afterAll, describe, expect, it } from "vitest";
import { ensureIndexes, mongoStore } from "../src/index.js";

// Port 1 on loopback: nothing listens there, connections are refused at once.
const UNREACHABLE = "mongodb://127.0.0.1:1/?directConnection=true";
const clients: MongoClient[] = [];

function unreachableClient(): MongoClient {
  const client = new MongoClient(UNREACHABLE, {
    serverSelectionTimeoutMS: 200,
    connectTimeoutMS: 200,
  });
  clients.push(client);
  return client;
}

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
});

const at = new Date(Date.UTC(2025, 0, 1));
const session: SessionRecord = {
  id: "s-1",
  subject: "user-1",
  clientId: "default",
  generation: 0,
  currentHash: "h-0",
  previousHash: null,
  sealedSuccessor: null,
  rotatedAt: null,
  createdAt: at,
  lastUsedAt: at,
  idleExpiresAt: new Date(at.getTime() + 3_600_000),
  expiresAt: new Date(at.getTime() + 86_400_000),
  purgeAfter: new Date(at.getTime() + 3_540_000),
  revokedAt: null,
  revokeReason: null,
  client: null,
  bindingKey: null,
  claims: null,
  dpopJkt: null,
};
const rotation: Rotation = {
  sessionId: "s-1",
  expectedHash: "h-0",
  successorHash: "h-1",
  generation: 1,
  sealedSuccessor: "sealed",
  rotatedAt: at,
  idleExpiresAt: session.idleExpiresAt,
  purgeAfter: session.purgeAfter,
  dpopJkt: null,
};

/** Every store method, with valid arguments. */
const calls: Array<[string, (store: TokenStore) => Promise<unknown>]> = [
  ["createSession", (store) => store.createSession(session)],
  ["rotate", (store) => store.rotate(rotation)],
  ["getSession", (store) => store.getSession("s-1")],
  ["listSessions", (store) => store.listSessions("user-1", at)],
  ["revokeSession", (store) => store.revokeSession("s-1", at, "logout")],
  ["revokeSubject", (store) => store.revokeSubject("user-1", at, "logout")],
  ["purge", (store) => store.purge(at, 10)],
];

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => expect.fail(`expected a rejection, got ${JSON.stringify(value)}`),
    (error: unknown) => error,
  );
}

describe("mongoStore when MongoDB is unreachable", () => {
  it.each(calls)(
    "%s rejects with StoreUnavailableError wrapping the driver error",
    async (name, call) => {
      // A fresh client each time: the first failing operation of a client is the server
      // selection timeout, later ones fail fast because the driver closed the topology.
      const error = await failure(call(mongoStore({ db: unreachableClient().db("tokens") })));
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(error).toMatchObject({ code: "temporarily_unavailable", reason: "store_unavailable" });
      const cause = (error as Error).cause as Error;
      expect(cause.name).toBe("MongoServerSelectionError");
      expect((error as Error).message).toContain(`MongoDB ${name} failed`);
    },
  );

  it("every later call on the same client rejects with StoreUnavailableError too", async () => {
    const store = mongoStore({ db: unreachableClient().db("tokens") });
    for (const [name, call] of calls) {
      expect(await failure(call(store)), name).toBeInstanceOf(StoreUnavailableError);
    }
  });

  it("a closed client: StoreUnavailableError wrapping MongoNotConnectedError", async () => {
    const client = unreachableClient();
    await client.close();
    const error = await failure(mongoStore({ db: client.db("tokens") }).getSession("s-1"));
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(((error as Error).cause as Error).name).toBe("MongoNotConnectedError");
  });

  it("ensureIndexes rejects with StoreUnavailableError", async () => {
    const error = await failure(ensureIndexes({ db: unreachableClient().db("tokens") }));
    expect(error).toBeInstanceOf(StoreUnavailableError);
  });
});

describe("input that never reaches MongoDB", () => {
  // Any query would fail against this client, so a clean answer proves no query was sent.
  const store = mongoStore({ db: unreachableClient().db("tokens") });
  const injection = { $ne: null } as unknown as string;

  it("non-string ids and subjects are answered as unknown, without a query", async () => {
    expect(await store.getSession(injection)).toBeNull();
    expect(await store.revokeSession(injection, at, "logout")).toBe(false);
    expect(await store.revokeSubject(injection, at, "logout")).toBe(0);
    expect(await store.listSessions(injection, at)).toEqual([]);
    expect(await store.rotate({ ...rotation, sessionId: injection })).toBeNull();
    expect(await store.rotate({ ...rotation, expectedHash: injection })).toBeNull();
  });

  it("purge refuses a limit MongoDB would read as 'no limit', and a bad date", async () => {
    for (const limit of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(await failure(store.purge(at, limit)), String(limit)).toBeInstanceOf(
        InvalidRequestError,
      );
    }
    expect(await failure(store.purge(new Date(Number.NaN), 10))).toBeInstanceOf(
      InvalidRequestError,
    );
    expect(await failure(store.purge("2025-01-01" as never, 10))).toBeInstanceOf(
      InvalidRequestError,
    );
  });

  it("claims with a NUL in a field name are refused as malformed before any write", async () => {
    const error = await failure(store.createSession({ ...session, claims: { "a\0b": 1 } }));
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error).toMatchObject({ code: "invalid_request", reason: "malformed" });
  });
});

describe("configuration", () => {
  const db = unreachableClient().db("tokens");

  it("mongoStore needs a Db and a valid collection name", () => {
    expect(() => mongoStore(undefined as never)).toThrow(ConfigurationError);
    expect(() => mongoStore({} as never)).toThrow(ConfigurationError);
    expect(() => mongoStore({ db: "mongodb://x" as never })).toThrow(ConfigurationError);
    expect(() => mongoStore({ db, collections: { sessions: "" } })).toThrow(ConfigurationError);
    expect(() => mongoStore({ db, collections: { sessions: "a$b" } })).toThrow(ConfigurationError);
    expect(mongoStore({ db, collections: { sessions: "s" } })).toBeTypeOf("object");
  });

  it("options of the two-collection version are refused, naming what replaces them", async () => {
    const tokens = { sessions: "s", tokens: "t" } as never;
    expect(() => mongoStore({ db, collections: tokens })).toThrow(/no tokens collection/);
    const error = await failure(ensureIndexes({ db, ttl: 86_400 } as never));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toContain("tokens.purge()");
  });

  it("unacknowledged writes (w: 0) are refused: rotate could not tell whether it won", () => {
    const client = new MongoClient(UNREACHABLE, { writeConcern: { w: 0 } });
    clients.push(client);
    expect(() => mongoStore({ db: client.db("tokens") })).toThrow(/w: 0/);
  });
});
