import { afterAll, beforeAll, describe } from "vitest";
import { ConfigurationError } from "../errors.js";
import { generateSigningKey } from "../generate-signing-key.js";
import type { TokenStore } from "../store.js";
import { describeConcurrency } from "./concurrency.js";
import { describeFaults } from "./faults.js";
import type { Env } from "./harness.js";

export { type DpopProofOptions, type DpopTestKey, dpopKey, dpopProof } from "./dpop-proof.js";
export {
  NON_ATOMIC_SERVER,
  rotationOf,
  sessionRecord,
  taggedRefreshToken,
  unknownRefreshToken,
} from "./harness.js";
export { issuedElsewhere } from "./issued-elsewhere.js";

import { describeDpop } from "./dpop.js";
import { describeLifecycle } from "./lifecycle.js";
import { describePurge } from "./purge.js";
import { describeRevocation } from "./revocation.js";
import { describeStoreContract } from "./store-contract.js";

/**
 * A store opened for the conformance suite.
 *
 * @example
 * ```ts
 * const opened: StoreUnderTest = {
 *   store: pgStore({ pool }),
 *   peers: [pgStore({ pool: secondPool })],
 *   close: async () => { await pool.end(); await secondPool.end(); },
 *   faults: {
 *     interrupt: async () => {
 *       await admin.query("select pg_terminate_backend(pid) from pg_stat_activity where datname = $1", [db]);
 *     },
 *   },
 * };
 * ```
 */
export interface StoreUnderTest {
  /** The store under test. */
  store: TokenStore;
  /**
   * Stores over the same data through independent connection pools (as separate server
   * instances would have). Concurrency tests spread their calls over `store` and these.
   */
  peers?: TokenStore[];
  /** Releases connections; called once after the last test. */
  close?: () => Promise<void>;
  /** Failure injection. Tests that need a missing fault are reported as skipped. */
  faults?: {
    /** A store over a database that cannot be reached (wrong port, stopped server). */
    unavailable?: () => Promise<TokenStore>;
    /** Kills every server connection of the store (and its peers), e.g. `pg_terminate_backend`. */
    interrupt?: () => Promise<void>;
  };
}

/**
 * Options of {@link runStoreConformance}.
 *
 * @example
 * ```ts
 * // A hosted database with a small connection limit:
 * runStoreConformance("planetscale", open, { concurrency: 10 });
 * ```
 */
export interface ConformanceOptions {
  /** How many simultaneous calls the concurrency tests make. Default 50. */
  concurrency?: number;
  /**
   * Only for a server known to break the guarantee the store relies on (a compatible server
   * that evaluates conditional writes outside an atomic step): the reason, and the tests that
   * race writes on one record are registered as skipped with it in their names (marked
   * {@link NON_ATOMIC_SERVER}). Never set it for the database you run in production: a store
   * whose races are not tested there is not proven.
   */
  atomicWrites?: { unsupported: string };
}

/**
 * Registers the store conformance suite with vitest: every behaviour of tokens — issue,
 * rotation, reuse detection, the grace window, idle and absolute expiry, client binding, DPoP
 * key binding, revocation, the sessions list and cap, purge — run through `createTokens` over
 * the store, plus the raw store contract, concurrent rotations over independent connections
 * and, when the adapter provides them, store failures.
 *
 * `open` is called once, before the first test; `close` once, after the last. Tests isolate
 * themselves by random subjects and ids, so the database need not be empty, but the suite
 * purges ended sessions: give it a database (or table prefix) of its own. Time is an injected
 * clock that the tests move forward; nothing sleeps.
 *
 * @param name - The `describe` block name, e.g. `"postgres"`.
 * @param open - Opens the store (and its peers and faults).
 * @param options - Suite options.
 *
 * @example
 * ```ts
 * // test/conformance.test.ts
 * import { runStoreConformance } from "@tokens/core/testing";
 * import { pgStore } from "../src/index.js";
 *
 * runStoreConformance("postgres", async () => {
 *   const store = await pgStore({ url: process.env.POSTGRES_URL });
 *   const peer = await pgStore({ url: process.env.POSTGRES_URL });
 *   return {
 *     store,
 *     peers: [peer],
 *     close: async () => { await store.close(); await peer.close(); },
 *     faults: { unavailable: async () => pgStore({ url: "postgres://127.0.0.1:1/none" }) },
 *   };
 * });
 * ```
 */
export function runStoreConformance(
  name: string,
  open: () => Promise<StoreUnderTest>,
  options: ConformanceOptions = {},
): void {
  const concurrency = options.concurrency ?? 50;
  if (!Number.isInteger(concurrency) || concurrency < 2) {
    throw new ConfigurationError(
      `runStoreConformance: concurrency must be an integer of at least 2, got ${concurrency}`,
    );
  }
  describe(name, () => {
    let opened: StoreUnderTest | undefined;
    let env: Env | undefined;

    beforeAll(async () => {
      opened = await open();
      env = {
        store: opened.store,
        stores: [opened.store, ...(opened.peers ?? [])],
        keys: [await generateSigningKey("EdDSA", { kid: "conformance" })],
        concurrency,
        faults: opened.faults ?? {},
      };
    });

    afterAll(async () => {
      await opened?.close?.();
    });

    const current = (): Env => {
      if (!env) throw new Error(`runStoreConformance(${name}): the store was not opened`);
      return env;
    };

    const nonAtomic = options.atomicWrites?.unsupported;
    describeStoreContract(current, nonAtomic);
    describeLifecycle(current);
    describeDpop(current);
    describeRevocation(current);
    describePurge(current);
    describeConcurrency(current, nonAtomic);
    // Last: killing connections must not disturb the other tests.
    describeFaults(current);
  });
}
