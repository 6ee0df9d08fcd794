import { memoryStore } from "@tokens/memory";
import { describe, expect, it } from "vitest";
import { type SessionRecord, StoreUnavailableError, type TokenStore } from "../src/index.js";
import { STORE_METHODS } from "../src/internal/context.js";
import { sessionRecord } from "../src/testing/harness.js";
import { runStoreConformance } from "../src/testing/index.js";
import { raceRotations } from "../src/testing/race.js";

const METHODS = STORE_METHODS;

/** A random pause of up to 4 ms: a round trip to a database, during which a connection can die. */
function roundTrip(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * 4));
}

/**
 * A real store behind simulated connections, to exercise the suite's fault tests (and core's
 * handling of them) without a database server: `interrupt` kills every call in flight, either
 * before it reached the store or after it did but before the reply came back — the two ways a
 * terminated connection fails.
 */
function withConnections(inner: TokenStore): {
  store: TokenStore;
  interrupt: () => Promise<void>;
} {
  let generation = 0;
  const store = {} as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const method of METHODS) {
    const call = (inner[method] as (...args: unknown[]) => Promise<unknown>).bind(inner);
    store[method] = async (...args) => {
      const connection = generation;
      await roundTrip();
      if (connection !== generation)
        throw new StoreUnavailableError("connection terminated before the query");
      const result = await call(...args);
      await roundTrip();
      if (connection !== generation)
        throw new StoreUnavailableError("connection terminated before the reply");
      return result;
    };
  }
  return {
    store: store as unknown as TokenStore,
    // Strikes a moment later, so that some calls are done, some half-way and some not started.
    interrupt: async () => {
      await new Promise((resolve) => setTimeout(resolve, 6));
      generation++;
    },
  };
}

/** A store whose database is down: every method rejects as an adapter's would. */
function unreachable(): TokenStore {
  const store = {} as Record<string, () => Promise<never>>;
  for (const method of METHODS) {
    store[method] = async () => {
      throw new StoreUnavailableError("connect ECONNREFUSED 127.0.0.1:1", {
        cause: new Error("ECONNREFUSED"),
      });
    };
  }
  return store as unknown as TokenStore;
}

/** The classic broken store: reads the row, awaits, then writes without re-checking. */
function readThenWrite(inner: TokenStore): TokenStore {
  return {
    ...inner,
    rotate: async (rotation) => {
      const session = await inner.getSession(rotation.sessionId);
      if (!session || session.revokedAt || session.currentHash !== rotation.expectedHash)
        return null;
      await new Promise((resolve) => setTimeout(resolve, 1));
      // The write without the condition: it overwrites whatever is there now.
      const now = (await inner.getSession(rotation.sessionId)) as SessionRecord;
      return inner.rotate({ ...rotation, expectedHash: now.currentHash });
    },
  };
}

runStoreConformance("memory store behind failing connections", async () => {
  const { store, interrupt } = withConnections(memoryStore());
  return { store, peers: [store], faults: { interrupt, unavailable: async () => unreachable() } };
});

describe("the conformance checks can fail", () => {
  it("the rotate race catches a store that reads, awaits, then writes", async () => {
    const naive = readThenWrite(memoryStore());
    const session = sessionRecord();
    await naive.createSession(session);
    const { winners } = await raceRotations([naive], session, 20, Date.now());
    expect(winners.length).toBeGreaterThan(1);
  });

  it("the rotate race passes the memory store", async () => {
    const store = memoryStore();
    const session = sessionRecord();
    await store.createSession(session);
    const { winners } = await raceRotations([store], session, 20, Date.now());
    expect(winners).toHaveLength(1);
  });
});
