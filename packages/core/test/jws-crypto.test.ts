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
import { signatureOps, usePortableCrypto } from "../src/internal/jws-crypto.js";
import { ALGORITHMS } from "./support/jws.js";

function publicPart(jwk: SigningKey) {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...rest } = jwk;
  return rest;
}

async function roundTrip(alg: SigningAlgorithm, break_?: (crypto: object) => object) {
  const getBuiltinModule = process.getBuiltinModule.bind(process);
  if (break_) {
    vi.spyOn(process, "getBuiltinModule").mockImplementation(((id: string) =>
      id === "node:crypto" ? break_(getBuiltinModule(id)) : getBuiltinModule(id)) as never);
  }
  const jwk = await generateSigningKey(alg);
  const ops = await signatureOps(jwk, publicPart(jwk));
  const signature = new Uint8Array(await ops.sign("header.payload"));
  expect(await ops.verify("header.payload", signature)).toBe(true);
  expect(await ops.verify("header.payloaD", signature)).toBe(false);
  return ops.backend;
}

const PORTABLE = { sign: "portable", verify: "portable" };

describe("signature backends", () => {
  afterEach(() => {
    vi.restoreAllMocks();
    usePortableCrypto(false);
  });

  it.each<[SigningAlgorithm, object]>([
    ["EdDSA", { sign: "scheduled", verify: "scheduled" }],
    ["ES256", { sign: "scheduled", verify: "scheduled" }],
    ["RS256", { sign: "scheduled", verify: "scheduled" }],
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
