import { generateKeyPairSync } from "node:crypto";
import { memoryStore } from "@tokens/memory";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  ConfigurationError,
  createTokens,
  generateSigningKey,
  type SigningAlgorithm,
  type SigningKey,
} from "../src/index.js";
import { type SignatureOps, signatureOps, usePortableCrypto } from "../src/internal/jws-crypto.js";
import { ALGORITHMS } from "./support/jws.js";

function publicPart(jwk: SigningKey) {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...rest } = jwk;
  return rest;
}

/** A fresh key's operations, with the runtime's Node crypto changed by `break_` if given. */
async function opsWith(alg: SigningAlgorithm, break_?: (crypto: object) => object) {
  const getBuiltinModule = process.getBuiltinModule.bind(process);
  if (break_) {
    vi.spyOn(process, "getBuiltinModule").mockImplementation(((id: string) =>
      id === "node:crypto" ? break_(getBuiltinModule(id)) : getBuiltinModule(id)) as never);
  }
  const jwk = await generateSigningKey(alg);
  return signatureOps(jwk, publicPart(jwk));
}

async function roundTrip(alg: SigningAlgorithm, break_?: (crypto: object) => object) {
  const ops = await opsWith(alg, break_);
  const signature = new Uint8Array(await ops.sign("header.payload"));
  expect(await ops.verify("header.payload", signature)).toBe(true);
  expect(await ops.verify("header.payloaD", signature)).toBe(false);
  return ops.backend;
}

const PORTABLE = { sign: "portable", verify: "portable" };
const SCHEDULED = { sign: "scheduled", verify: "scheduled", pool: "node" };
const ASYMMETRIC = ALGORITHMS.filter((alg) => alg !== "HS256");

type Callback = (error: Error | null, value: unknown) => void;

/** Node's crypto with `sign` and `verify` changed only in their callback form. */
function withCallbackForm(onCallback: (answer: () => unknown, callback: Callback) => unknown) {
  return (crypto: object) => {
    const node = crypto as Record<"sign" | "verify", (...args: unknown[]) => unknown>;
    const wrap =
      (original: (...args: unknown[]) => unknown) =>
      (...args: unknown[]) => {
        const last = args.at(-1);
        if (typeof last !== "function") return original(...args);
        return onCallback(() => original(...args.slice(0, -1)), last as Callback);
      };
    return { ...crypto, sign: wrap(node.sign), verify: wrap(node.verify) };
  };
}

/** Signs and checks with calls overlapping, which puts all but the first on the pool. */
async function overlapping(ops: SignatureOps) {
  const signatures = await Promise.all(
    Array.from({ length: 4 }, async () => new Uint8Array(await ops.sign("header.payload"))),
  );
  const checks = await Promise.all(
    signatures.flatMap((signature) => [
      ops.verify("header.payload", signature),
      ops.verify("header.payloaD", signature),
    ]),
  );
  expect(checks).toEqual(Array(4).fill([true, false]).flat());
}

describe("signature backends", () => {
  afterEach(() => {
    vi.restoreAllMocks();
    usePortableCrypto(false);
  });

  it.each<[SigningAlgorithm, object]>([
    ["EdDSA", SCHEDULED],
    ["ES256", SCHEDULED],
    ["RS256", SCHEDULED],
    ["HS256", { sign: "node", verify: "node" }],
  ])("%s runs on Node's crypto where the runtime has it", async (alg, expected) => {
    expect(await roundTrip(alg)).toEqual(expected);
  });

  it.each(ALGORITHMS)("%s runs on the portable backend when told to", async (alg) => {
    usePortableCrypto(true);
    expect(await roundTrip(alg)).toEqual(PORTABLE);
  });

  it.each(ALGORITHMS)("%s falls back when the runtime has no Node crypto", async (alg) => {
    expect(await roundTrip(alg, () => undefined as never)).toEqual(PORTABLE);
  });

  it.each(ALGORITHMS)(
    "%s falls back when Node's crypto is only partly there (it throws)",
    async (alg) => {
      // What workerd's node:crypto does with ECDSA options.
      const refuse = () => {
        throw new TypeError('The "options.key" property must be of type string');
      };
      const partial = (crypto: object) => ({
        ...crypto,
        sign: refuse,
        verify: refuse,
        createHmac: refuse,
      });
      expect(await roundTrip(alg, partial)).toEqual(PORTABLE);
    },
  );

  it.each(ALGORITHMS)("%s falls back when Node's crypto accepts anything", async (alg) => {
    const lenient = (crypto: object) => ({
      ...crypto,
      verify: () => true,
      createHmac: () => ({ update: () => ({ digest: () => new Uint8Array(32) }) }),
    });
    expect(await roundTrip(alg, lenient)).toEqual(PORTABLE);
  });

  it.each(ASYMMETRIC)("%s runs pooled calls through Node's callback form", async (alg) => {
    let pooled = 0;
    const counting = withCallbackForm((answer, callback) => {
      pooled++;
      queueMicrotask(() => callback(null, answer()));
    });
    const ops = await opsWith(alg, counting);
    expect(ops.backend).toEqual(SCHEDULED);
    // The probe's sign and two checks.
    expect(pooled).toBe(3);
    await overlapping(ops);
    // Every overlapping call but the first of each batch.
    expect(pooled).toBe(3 + 3 + 7);
  });

  it.each<[string, (answer: () => unknown, callback: Callback) => unknown]>([
    ["answers synchronously", (answer) => answer()],
    ["never calls back", () => undefined],
    ["disagrees with Web Crypto", (_answer, callback) => callback(null, new Uint8Array(64))],
    [
      "throws",
      () => {
        throw new TypeError("callback not supported");
      },
    ],
  ])("pools through Web Crypto when the callback form %s", async (_, behaviour) => {
    const ops = await opsWith("EdDSA", withCallbackForm(behaviour));
    expect(ops.backend).toEqual({ ...SCHEDULED, pool: "portable" });
    await overlapping(ops);
  });

  it("pools through Web Crypto on Deno, whose callback form computes on the calling thread", async () => {
    vi.stubGlobal("Deno", {});
    try {
      const ops = await opsWith("EdDSA");
      expect(ops.backend).toEqual({ ...SCHEDULED, pool: "portable" });
      await overlapping(ops);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it("refuses RSA keys under 2048 bits at configuration", () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 1024 });
    const jwk = {
      ...privateKey.export({ format: "jwk" }),
      kid: "small",
      alg: "RS256",
    } as SigningKey;
    expect(() =>
      createTokens({ issuer: "i", audience: "a", keys: [jwk], store: memoryStore() }),
    ).toThrow(ConfigurationError);
    expect(() =>
      createTokens({
        issuer: "i",
        audience: "a",
        keys: [{ ...jwk, n: "AQAB" }],
        store: memoryStore(),
      }),
    ).toThrow(/at least 2048 bits/);
  });
});
