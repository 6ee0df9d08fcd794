// The store conformance suite and the MongoDB-specific checks, against the server the project's
// globalSetup provides (test/support/global-setup.ts): the one MONGODB_URL names (standalone,
// replica set or mongos; see README.md), or else a FerretDB it started. With neither everything
// here is skipped, loudly: there is no stand-in for a real server.
import { randomUUID } from "node:crypto";
import { ConfigurationError, type SessionRecord, type TokenStore } from "@tokens/core";
import { runStoreConformance, type StoreUnderTest } from "@tokens/core/testing";
import { type Db, MongoClient, type MongoClientOptions } from "mongodb";
import { afterAll, describe, expect, it } from "vitest";
import {
  ensureIndexes,
  mongoStore,
  type SessionDocument,
  type TokenDocument,
} from "../src/index.js";
import { firstHost, hostAndPort, throughProxy } from "./support/mongodb-url.js";
import { testServer } from "./support/server.js";
import { startTcpProxy } from "./support/tcp-proxy.js";

const server = testServer();
const url = server?.url;
if (!server) {
  console.warn(
    "[@tokens/mongodb] SKIPPED the MongoDB conformance suite: MONGODB_URL is not set and no " +
      "FerretDB could start (bash scripts/bootstrap.sh builds it). See packages/mongodb/README.md → Testing.",
  );
}
const suite = server ? describe : describe.skip;

/** One database per run, dropped at the end, so runs sharing a server never meet. */
const DATABASE = `tokens_mongodb_${Date.now().toString(36)}_${process.pid}`;
/** Fail within seconds, not the driver's default 30 s, when a server is gone. */
const CLIENT_OPTIONS: MongoClientOptions = {
  serverSelectionTimeoutMS: 5_000,
  heartbeatFrequencyMS: 500,
};
/** Port 1 on loopback: nothing listens, connections are refused. */
const UNREACHABLE = "mongodb://127.0.0.1:1/?directConnection=true";

interface Shared {
  /** A direct client for set-up, raw document reads and the final drop; never interrupted. */
  admin: MongoClient;
  /** The run's database, through `admin`. */
  db: Db;
  /** The server the stores talk to through the relay (a replica set's primary). */
  primary: { host: string; port: number };
}

let shared: Promise<Shared> | undefined;

function connectShared(serverUrl: string): Promise<Shared> {
  shared ??= (async () => {
    const admin = new MongoClient(serverUrl, CLIENT_OPTIONS);
    await admin.connect();
    const hello = await admin.db("admin").command({ hello: 1 });
    // A replica set names its primary; a standalone or a mongos is the URL's (first) host.
    const address = typeof hello.primary === "string" ? hello.primary : firstHost(serverUrl);
    return { admin, db: admin.db(DATABASE), primary: hostAndPort(address) };
  })();
  return shared;
}

afterAll(async () => {
  if (!shared) return;
  const { admin, db } = await shared;
  await db.dropDatabase();
  await admin.close();
});

let opened = 0;

/** Fresh collections with their indexes, in the run's database. */
async function freshCollections(db: Db): Promise<{ sessions: string; tokens: string }> {
  opened += 1;
  const collections = { sessions: `sessions_${opened}`, tokens: `tokens_${opened}` };
  // No TTL here: the suite writes sessions dated hundreds of days back, which a TTL monitor
  // pass would delete under its feet. TTL indexes are checked below, on their own.
  await ensureIndexes({ db, collections, ttl: false });
  return collections;
}

async function open(serverUrl: string): Promise<StoreUnderTest> {
  const { db, primary } = await connectShared(serverUrl);
  const collections = await freshCollections(db);
  const proxy = await startTcpProxy(primary.host, primary.port);
  // The store and two peers: three clients, so three independent connection pools, as three
  // server instances would have. All go through the relay, so `interrupt` reaches them all.
  const clients = [1, 2, 3].map(
    () => new MongoClient(throughProxy(serverUrl, proxy.port), CLIENT_OPTIONS),
  );
  const [store, ...peers] = clients.map((client) =>
    mongoStore({ db: client.db(DATABASE), collections }),
  );
  const unreachable: MongoClient[] = [];
  return {
    store: store as TokenStore,
    peers,
    faults: {
      unavailable: async () => {
        const dead = new MongoClient(UNREACHABLE, {
          serverSelectionTimeoutMS: 500,
          connectTimeoutMS: 500,
        });
        unreachable.push(dead);
        return mongoStore({ db: dead.db(DATABASE), collections });
      },
      // Cuts every TCP connection of the three clients, idle or busy, as a server restart or
      // a network partition would: in-flight operations fail with a network error (or, where
      // the driver retries them, succeed), and the driver reconnects through the relay.
      interrupt: async () => proxy.interrupt(),
    },
    close: async () => {
      await Promise.all([...clients, ...unreachable].map((client) => client.close()));
      await proxy.close();
    },
  };
}

suite(`MongoDB on ${server?.name ?? "no server"}`, () => {
  runStoreConformance("mongodb", () => open(url as string), { rotateLive: false });

  describe("MongoDB documents and indexes", () => {
    const HOUR = 3_600_000;
    const DAY = 24 * HOUR;

    async function setup() {
      const { db } = await connectShared(url as string);
      const collections = await freshCollections(db);
      return {
        store: mongoStore({ db, collections }),
        sessions: db.collection<SessionDocument>(collections.sessions),
        tokens: db.collection<TokenDocument>(collections.tokens),
      };
    }

    function record(at: number, overrides: Partial<SessionRecord> = {}) {
      const session: SessionRecord = {
        id: `s-${randomUUID()}`,
        subject: `u-${randomUUID()}`,
        clientId: "default",
        generation: 0,
        currentHash: `h-${randomUUID()}`,
        previousHash: null,
        sealedSuccessor: null,
        rotatedAt: null,
        createdAt: new Date(at),
        lastUsedAt: new Date(at),
        idleExpiresAt: new Date(at + HOUR),
        expiresAt: new Date(at + DAY),
        revokedAt: null,
        revokeReason: null,
        client: { deviceId: "d-1" },
        bindingKey: null,
        claims: { role: "admin" },
        ...overrides,
      };
      const token = {
        hash: session.currentHash,
        sessionId: session.id,
        generation: 0,
        createdAt: new Date(at),
      };
      return { session, token };
    }

    it("ids are plain strings, dates are BSON dates, endsAt follows create, rotate and revoke", async () => {
      const { store, sessions, tokens } = await setup();
      const at = Date.now();
      const { session, token } = record(at);
      await store.createSession(session, token);

      const dated = await sessions.countDocuments({
        _id: session.id,
        createdAt: { $type: "date" },
        endsAt: { $type: "date" },
      });
      expect(dated, "createdAt and endsAt stored as BSON dates").toBe(1);
      expect(await sessions.findOne({ _id: session.id })).toMatchObject({
        _id: session.id,
        subject: session.subject,
        client: { deviceId: "d-1" },
        claims: { role: "admin" },
        endsAt: session.idleExpiresAt,
      });
      expect(await tokens.findOne({ _id: token.hash })).toEqual({
        _id: token.hash,
        sessionId: session.id,
        generation: 0,
        createdAt: token.createdAt,
        sessionExpiresAt: session.expiresAt,
      });

      const rotatedAt = new Date(at + 1000);
      const idleExpiresAt = new Date(at + 2 * HOUR);
      const successor = {
        hash: `h-${randomUUID()}`,
        sessionId: session.id,
        generation: 1,
        createdAt: rotatedAt,
      };
      const rotation = {
        sessionId: session.id,
        expectedHash: token.hash,
        successor,
        sealedSuccessor: "x",
        rotatedAt,
        idleExpiresAt,
      };
      expect(await store.rotate(rotation)).toBe(true);
      expect((await sessions.findOne({ _id: session.id }))?.endsAt).toEqual(idleExpiresAt);
      expect((await tokens.findOne({ _id: successor.hash }))?.sessionExpiresAt).toEqual(
        session.expiresAt,
      );

      const revokedAt = new Date(at + 2000);
      expect(await store.revokeSession(session.id, revokedAt, "logout")).toBe(true);
      expect((await sessions.findOne({ _id: session.id }))?.endsAt).toEqual(revokedAt);
    });

    it("a revocation after the session ended keeps endsAt at the earlier end", async () => {
      const { store, sessions } = await setup();
      const at = Date.now() - 3 * HOUR;
      const { session, token } = record(at);
      await store.createSession(session, token);
      expect(await store.revokeSubject(session.subject, new Date(), "subject_revoked")).toBe(1);
      expect((await sessions.findOne({ _id: session.id }))?.endsAt).toEqual(session.idleExpiresAt);
    });

    it("a token whose session document does not exist finds nothing", async () => {
      const { store, tokens } = await setup();
      const at = new Date();
      const hash = `h-${randomUUID()}`;
      await tokens.insertOne({
        _id: hash,
        sessionId: `s-${randomUUID()}`,
        generation: 0,
        createdAt: at,
        sessionExpiresAt: at,
      });
      expect(await store.findToken(hash)).toBeNull();
    });

    it("the unique currentHash index: a second session naming a live hash is refused", async () => {
      const { store } = await setup();
      const first = record(Date.now());
      await store.createSession(first.session, first.token);
      const second = record(Date.now(), { currentHash: first.session.currentHash });
      await expect(
        store.createSession(second.session, { ...second.token, hash: `h-${randomUUID()}` }),
      ).rejects.toMatchObject({
        reason: "store_unavailable",
      });
      expect(await store.getSession(second.session.id)).toBeNull();
    });

    it("createSession repeated with the same records succeeds once more without a second copy", async () => {
      const { store, sessions, tokens } = await setup();
      const { session, token } = record(Date.now());
      await store.createSession(session, token);
      await store.createSession(session, token);
      expect(await sessions.countDocuments({ _id: session.id })).toBe(1);
      expect(await tokens.countDocuments({ sessionId: session.id })).toBe(1);
    });

    it("successors of lost rotations are deleted by purge with their session", async () => {
      const { store, tokens } = await setup();
      const at = Date.now() - 10 * DAY;
      const { session, token } = record(at);
      await store.createSession(session, token);
      const rotations = Array.from({ length: 6 }, (_, i) => ({
        sessionId: session.id,
        expectedHash: token.hash,
        successor: {
          hash: `h-${randomUUID()}`,
          sessionId: session.id,
          generation: 1,
          createdAt: new Date(at + i),
        },
        sealedSuccessor: `sealed-${i}`,
        rotatedAt: new Date(at + 1000),
        idleExpiresAt: new Date(at + HOUR),
      }));
      const won = await Promise.all(rotations.map((rotation) => store.rotate(rotation)));
      expect(won.filter(Boolean)).toHaveLength(1);
      expect(await tokens.countDocuments({ sessionId: session.id })).toBeGreaterThanOrEqual(2);

      expect(await store.purge(new Date(at + 2 * HOUR), 100)).toBeGreaterThanOrEqual(1);
      expect(await tokens.countDocuments({ sessionId: session.id })).toBe(0);
      expect(await store.getSession(session.id)).toBeNull();
    });

    // FerretDB 1.x has no TTL indexes (and no `collMod`): README.md → Tested against.
    if (server?.ferretdb) {
      it("ensureIndexes on FerretDB: a TTL is refused as ConfigurationError, ttl: false creates the documented indexes", async () => {
        const { db } = await connectShared(url as string);
        opened += 1;
        const collections = { sessions: `ttl_sessions_${opened}`, tokens: `ttl_tokens_${opened}` };
        await expect(ensureIndexes({ db, collections })).rejects.toThrow(
          /no TTL indexes.*ttl: false/,
        );
        await expect(ensureIndexes({ db, collections, ttl: 60 })).rejects.toBeInstanceOf(
          ConfigurationError,
        );
        await ensureIndexes({ db, collections, ttl: false });
        await ensureIndexes({ db, collections, ttl: false });
        const keys = async (name: string) =>
          (await db.collection(name).indexes()).map(({ key, unique, expireAfterSeconds }) => ({
            key,
            unique: unique ?? false,
            ttl: expireAfterSeconds ?? null,
          }));
        const sessions = await keys(collections.sessions);
        expect(sessions).toEqual(
          expect.arrayContaining([
            { key: { subject: 1, revokedAt: 1, createdAt: 1 }, unique: false, ttl: null },
            { key: { currentHash: 1 }, unique: true, ttl: null },
            { key: { endsAt: 1 }, unique: false, ttl: null },
          ]),
        );
        expect(sessions).toHaveLength(4);
        const tokens = await keys(collections.tokens);
        expect(tokens).toEqual(
          expect.arrayContaining([
            { key: { sessionId: 1 }, unique: false, ttl: null },
            { key: { sessionExpiresAt: 1 }, unique: false, ttl: null },
          ]),
        );
        expect(tokens).toHaveLength(3);
      });
    } else {
      it("ensureIndexes creates the documented indexes, is idempotent, and changes the TTL in place", async () => {
        const { db } = await connectShared(url as string);
        opened += 1;
        const collections = { sessions: `ttl_sessions_${opened}`, tokens: `ttl_tokens_${opened}` };
        const indexes = async () => {
          const describeAll = async (name: string) =>
            (await db.collection(name).indexes()).map(({ key, unique, expireAfterSeconds }) => ({
              key,
              unique: unique ?? false,
              ttl: expireAfterSeconds ?? null,
            }));
          return {
            sessions: await describeAll(collections.sessions),
            tokens: await describeAll(collections.tokens),
          };
        };
        const expected = (ttl: number | null) => ({
          sessions: expect.arrayContaining([
            { key: { _id: 1 }, unique: false, ttl: null },
            { key: { subject: 1, revokedAt: 1, createdAt: 1 }, unique: false, ttl: null },
            { key: { currentHash: 1 }, unique: true, ttl: null },
            { key: { endsAt: 1 }, unique: false, ttl },
          ]),
          tokens: expect.arrayContaining([
            { key: { _id: 1 }, unique: false, ttl: null },
            { key: { sessionId: 1 }, unique: false, ttl: null },
            { key: { sessionExpiresAt: 1 }, unique: false, ttl },
          ]),
        });

        await ensureIndexes({ db, collections, ttl: 3600 });
        await ensureIndexes({ db, collections, ttl: 3600 });
        const created = await indexes();
        expect(created).toEqual(expected(3600));
        expect(created.sessions).toHaveLength(4);
        expect(created.tokens).toHaveLength(3);

        await ensureIndexes({ db, collections, ttl: 7200 });
        expect(await indexes()).toEqual(expected(7200));
        // The default: one day, like core's purgeRetention.
        await ensureIndexes({ db, collections });
        expect(await indexes()).toEqual(expected(86_400));
        await expect(ensureIndexes({ db, collections, ttl: false })).rejects.toBeInstanceOf(
          ConfigurationError,
        );
      });

      it("ensureIndexes turns plain end-date indexes into TTL indexes", async () => {
        const { db } = await connectShared(url as string);
        const collections = await freshCollections(db);
        const ttlOf = async (name: string, field: string) =>
          (await db.collection(name).indexes()).find((index) => index.key[field] === 1)
            ?.expireAfterSeconds;
        expect(await ttlOf(collections.sessions, "endsAt")).toBeUndefined();
        await ensureIndexes({ db, collections, ttl: 60 });
        expect(await ttlOf(collections.sessions, "endsAt")).toBe(60);
        expect(await ttlOf(collections.tokens, "sessionExpiresAt")).toBe(60);
      });
    }
  });
});
