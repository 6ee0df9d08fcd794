// The store conformance suite and the MongoDB-specific checks, against the server the project's
// globalSetup provides (test/support/global-setup.ts): the one MONGODB_URL names (standalone,
// replica set or mongos; see README.md), or else a FerretDB it started. With neither everything
// here is skipped, loudly: there is no stand-in for a real server.
import { randomUUID } from "node:crypto";
import {
  type Rotation,
  type SessionRecord,
  StoreUnavailableError,
  type TokenStore,
} from "@tokens/core";
import { runStoreConformance, type StoreUnderTest } from "@tokens/core/testing";
import { type Db, MongoClient, type MongoClientOptions } from "mongodb";
import { afterAll, describe, expect, it } from "vitest";
import { toSessionDocument } from "../src/documents.js";
import { ensureIndexes, mongoStore, type SessionDocument } from "../src/index.js";
import { firstHost, hostAndPort, throughProxy } from "./support/mongodb-url.js";
import { ferretdbVersion, testServer } from "./support/server.js";
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

/**
 * FerretDB applies conditional updates outside an atomic step (README → Tested against): on it,
 * and only on it, the conformance races are registered as skipped with this reason. Asked of the
 * server itself, so a MONGODB_URL naming a FerretDB is recognised too.
 */
const ferretdb = url ? await ferretdbVersion((await connectShared(url)).admin) : undefined;
const conformanceOptions = ferretdb
  ? {
      atomicWrites: {
        unsupported: `FerretDB ${ferretdb} evaluates an update's filter on a read and writes the document back by _id, so several concurrent compare-and-sets of one document can win`,
      },
    }
  : {};

let opened = 0;

/** A fresh sessions collection with its indexes, in the run's database. */
async function freshCollections(db: Db): Promise<{ sessions: string }> {
  opened += 1;
  const collections = { sessions: `sessions_${opened}` };
  await ensureIndexes({ db, collections });
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
  runStoreConformance("mongodb", () => open(url as string), conformanceOptions);

  describe("MongoDB documents and indexes", () => {
    const MINUTE = 60_000;
    const HOUR = 60 * MINUTE;
    const DAY = 24 * HOUR;

    async function setup() {
      const { db } = await connectShared(url as string);
      const collections = await freshCollections(db);
      return {
        db,
        collections,
        store: mongoStore({ db, collections }),
        sessions: db.collection<SessionDocument>(collections.sessions),
      };
    }

    function record(at: number, overrides: Partial<SessionRecord> = {}): SessionRecord {
      return {
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
        purgeAfter: new Date(at + HOUR - MINUTE),
        revokedAt: null,
        revokeReason: null,
        client: { deviceId: "d-1" },
        bindingKey: null,
        claims: { role: "admin" },
        dpopJkt: null,
        ...overrides,
      };
    }

    function rotationOf(session: SessionRecord, at: number, idleTtl = HOUR): Rotation {
      return {
        sessionId: session.id,
        expectedHash: session.currentHash,
        successorHash: `h-${randomUUID()}`,
        generation: session.generation + 1,
        sealedSuccessor: `sealed-${randomUUID()}`,
        rotatedAt: new Date(at),
        idleExpiresAt: new Date(at + idleTtl),
        purgeAfter: new Date(at + idleTtl - MINUTE),
        dpopJkt: session.dpopJkt,
      };
    }

    it("one document per session: _id is the session id, BSON dates, the record's fields only; a refresh rewrites it in place", async () => {
      const { store, sessions } = await setup();
      const at = Date.now();
      const session = record(at);
      await store.createSession(session);
      expect(
        await sessions.countDocuments({
          _id: session.id,
          createdAt: { $type: "date" },
          purgeAfter: { $type: "date" },
        }),
        "createdAt and purgeAfter stored as BSON dates",
      ).toBe(1);
      expect(await sessions.findOne({ _id: session.id })).toEqual(toSessionDocument(session));

      const rotation = rotationOf(session, at + 1000);
      const rotated = await store.rotate(rotation);
      expect(rotated?.generation).toBe(1);
      expect(await sessions.findOne({ _id: session.id })).toEqual(
        toSessionDocument(rotated as SessionRecord),
      );
      expect(await sessions.countDocuments({ subject: session.subject })).toBe(1);
    });

    it("rotate in a session's last idle period: idleExpiresAt and purgeAfter capped at expiresAt", async () => {
      const { store, sessions } = await setup();
      const at = Date.now();
      const session = record(at, { expiresAt: new Date(at + 30 * MINUTE) });
      await store.createSession(session);

      // Refused in the capped group too, writing nothing: a wrong hash, then a wrong client.
      const wrongHash = { ...rotationOf(session, at + MINUTE), expectedHash: `h-${randomUUID()}` };
      expect(await store.rotate(wrongHash)).toBeNull();
      expect(
        await store.rotate({ ...rotationOf(session, at + MINUTE), clientId: "other" }),
      ).toBeNull();
      expect(await sessions.findOne({ _id: session.id })).toEqual(toSessionDocument(session));

      // purgeAfter requested before expiresAt, idleExpiresAt after it: only the latter capped.
      const rotation = rotationOf(session, at + MINUTE, 30 * MINUTE);
      const rotated = await store.rotate(rotation);
      expect(rotated?.idleExpiresAt).toEqual(session.expiresAt);
      expect(rotated?.purgeAfter).toEqual(rotation.purgeAfter);
      // Both requested after expiresAt: both capped.
      const last = await store.rotate(rotationOf(rotated as SessionRecord, at + 2 * MINUTE, HOUR));
      expect(last?.generation).toBe(2);
      expect(last?.idleExpiresAt).toEqual(session.expiresAt);
      expect(last?.purgeAfter).toEqual(session.expiresAt);
      expect(await sessions.findOne({ _id: session.id })).toEqual(
        toSessionDocument(last as SessionRecord),
      );
    });

    it("a document without dpopJkt (written before sessions could be bound) rotates, proof or not", async () => {
      const { store, sessions } = await setup();
      const at = Date.now();
      const session = record(at);
      const { dpopJkt: _notYet, ...before } = toSessionDocument(session);
      await sessions.insertOne(before as SessionDocument);
      const proved = await store.rotate({ ...rotationOf(session, at + 1000), dpopJkt: "jkt-1" });
      expect(proved).toMatchObject({ generation: 1, dpopJkt: null });
      const unproved = await store.rotate(rotationOf(proved as SessionRecord, at + 2000));
      expect(unproved).toMatchObject({ generation: 2, dpopJkt: null });
    });

    it("a bound session in its last idle period rotates only for its own key", async () => {
      const { store, sessions } = await setup();
      const at = Date.now();
      const session = record(at, { expiresAt: new Date(at + 30 * MINUTE), dpopJkt: "jkt-own" });
      await store.createSession(session);
      for (const dpopJkt of ["jkt-other", null]) {
        expect(await store.rotate({ ...rotationOf(session, at + MINUTE), dpopJkt })).toBeNull();
      }
      expect(await sessions.findOne({ _id: session.id })).toEqual(toSessionDocument(session));
      const rotated = await store.rotate(rotationOf(session, at + MINUTE));
      expect(rotated).toMatchObject({ generation: 1, dpopJkt: "jkt-own" });
      expect(rotated?.idleExpiresAt).toEqual(session.expiresAt);
    });

    it("a revocation after the session ended keeps purgeAfter at the earlier value", async () => {
      const { store, sessions } = await setup();
      const session = record(Date.now() - 3 * HOUR);
      await store.createSession(session);
      expect(await store.revokeSubject(session.subject, new Date(), "subject_revoked")).toBe(1);
      expect((await sessions.findOne({ _id: session.id }))?.purgeAfter).toEqual(session.purgeAfter);
    });

    it("a document of the two-collection version (no purgeAfter) is reported as StoreUnavailableError naming the field", async () => {
      const { store, sessions } = await setup();
      const { purgeAfter, ...older } = toSessionDocument(record(Date.now()));
      await sessions.insertOne({ ...older, endsAt: purgeAfter } as unknown as SessionDocument);
      const error = await store.getSession(older._id).catch((failure: unknown) => failure);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error as Error).message).toContain('"purgeAfter"');
    });

    it("ensureIndexes creates exactly the documented indexes, none a refresh changes, and is idempotent", async () => {
      const { db, collections } = await setup();
      await ensureIndexes({ db, collections });
      const indexes = (await db.collection(collections.sessions).indexes()).map(
        ({ key, unique, expireAfterSeconds }) => ({
          key,
          unique: unique ?? false,
          ttl: expireAfterSeconds ?? null,
        }),
      );
      expect(indexes).toHaveLength(3);
      expect(indexes).toEqual(
        expect.arrayContaining([
          { key: { _id: 1 }, unique: false, ttl: null },
          { key: { subject: 1, revokedAt: 1, createdAt: 1 }, unique: false, ttl: null },
          { key: { purgeAfter: 1 }, unique: false, ttl: null },
        ]),
      );
    });
  });
});
