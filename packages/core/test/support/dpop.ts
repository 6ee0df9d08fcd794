import { memoryStore } from "@tokens/memory";
import { base64url } from "jose";
import { expect } from "vitest";
import {
  createTokens,
  type DpopRequest,
  generateSigningKey,
  type SigningKey,
  type TokenStore,
  type TokensConfig,
  type TokensErrorReason,
  type TokensEvent,
} from "../../src/index.js";
import { type Clock, clockAt, rejection } from "../../src/testing/harness.js";
import {
  type DpopProofOptions,
  type DpopTestKey,
  dpopKey,
  dpopProof,
} from "../../src/testing/index.js";

export const TOKEN_URL = "https://auth.example.test/auth/token";
export const API_URL = "https://api.example.test/v1/me";

/** The memory store, with a count of the calls that reached it. */
export function countingStore(store: TokenStore = memoryStore()): TokenStore & { calls: string[] } {
  const calls: string[] = [];
  const counted = { calls } as TokenStore & { calls: string[] };
  for (const name of Object.keys(store) as Array<keyof TokenStore>) {
    const method = store[name] as (...args: unknown[]) => unknown;
    (counted as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      calls.push(name);
      return method.apply(store, args);
    };
  }
  return counted;
}

export interface DpopSetup {
  tokens: ReturnType<typeof createTokens>;
  store: TokenStore & { calls: string[] };
  clock: Clock;
  events: TokensEvent[];
  keys: SigningKey[];
  key: DpopTestKey;
  /** A proof at the clock's time. */
  proof(key: DpopTestKey, options?: Partial<DpopProofOptions>): Promise<string>;
  /** The `dpop` option of a token-endpoint request (POST TOKEN_URL) with a fresh proof. */
  atTokenEndpoint(key?: DpopTestKey, options?: Partial<DpopProofOptions>): Promise<DpopRequest>;
  /** The `dpop` option of a resource request (GET API_URL, DPoP scheme) for `accessToken`. */
  atResource(
    accessToken: string,
    key?: DpopTestKey,
    options?: Partial<DpopProofOptions>,
  ): Promise<DpopRequest & { scheme: "DPoP" }>;
}

export async function dpopSetup(
  config: Partial<TokensConfig> = {},
  shared: { keys?: SigningKey[]; store?: TokenStore; clock?: Clock } = {},
): Promise<DpopSetup> {
  const clock = shared.clock ?? clockAt(Date.now());
  const events: TokensEvent[] = [];
  const store = countingStore(shared.store);
  const keys = shared.keys ?? [await generateSigningKey("EdDSA", { kid: "k" })];
  const tokens = createTokens({
    issuer: "https://auth.example.test",
    audience: "https://api.example.test",
    keys,
    store,
    now: clock.now,
    onEvent: (event) => {
      events.push(event);
    },
    ...config,
  });
  const key = await dpopKey();
  const proof = (k: DpopTestKey, options: Partial<DpopProofOptions> = {}) =>
    dpopProof(k, {
      htm: "POST",
      htu: TOKEN_URL,
      iat: Math.floor(clock.now() / 1000),
      ...options,
    });
  return {
    tokens,
    store,
    clock,
    events,
    keys,
    key,
    proof,
    atTokenEndpoint: async (k = key, options = {}) => ({
      proof: await proof(k, options),
      method: "POST",
      url: TOKEN_URL,
    }),
    atResource: async (accessToken, k = key, options = {}) => ({
      proof: await proof(k, { htm: "GET", htu: API_URL, accessToken, ...options }),
      method: "GET",
      url: API_URL,
      scheme: "DPoP",
    }),
  };
}

/** The claims of a JWT, unverified. */
export function jwtClaims(jwt: string): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(base64url.decode(jwt.split(".")[1] as string)));
}

/** Asserts that `promise` rejects with the given code and reason (and class name). */
export async function expectRefusal(
  promise: Promise<unknown>,
  name: string,
  code: string,
  reason: TokensErrorReason,
): Promise<Error> {
  const error = await rejection(promise);
  expect(error).toMatchObject({ name, code, reason });
  return error as Error;
}

export const expectProofRefused = (
  promise: Promise<unknown>,
  reason: TokensErrorReason = "dpop_invalid",
) => expectRefusal(promise, "InvalidDpopProofError", "invalid_dpop_proof", reason);
