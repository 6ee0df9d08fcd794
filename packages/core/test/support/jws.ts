import { createHmac, createPrivateKey, sign } from "node:crypto";
import { afterAll, beforeAll, expect } from "vitest";
import {
  InvalidTokenError,
  type SigningAlgorithm,
  type SigningKey,
  type Tokens,
} from "../../src/index.js";
import { type Backend, usePortableCrypto } from "../../src/internal/jws-crypto.js";

export const ALGORITHMS: SigningAlgorithm[] = ["EdDSA", "ES256", "RS256", "HS256"];
export const BACKENDS: Backend[] = ["node", "portable"];

/** Every algorithm on every backend, for `describe.each`. */
export const CASES = ALGORITHMS.flatMap((alg) => BACKENDS.map((backend) => ({ alg, backend })));

/**
 * Keys loaded inside the enclosing `describe` (by tokens created in its `beforeAll`, after this
 * one) use `backend`; the default comes back afterwards.
 */
export function onBackend(backend: Backend): void {
  beforeAll(() => usePortableCrypto(backend === "portable"));
  afterAll(() => usePortableCrypto(false));
}

/** A JWS segment: JSON (or text as given, or raw bytes) in base64url. */
export function segment(part: unknown): string {
  const bytes =
    part instanceof Uint8Array
      ? Buffer.from(part)
      : Buffer.from(typeof part === "string" ? part : JSON.stringify(part));
  return bytes.toString("base64url");
}

/** The signature of a signing input under `key`, made by node:crypto, independent of core. */
export function signatureOf(key: SigningKey, input: string): Buffer {
  if (key.alg === "HS256") {
    return createHmac("sha256", Buffer.from(key.k as string, "base64url"))
      .update(input)
      .digest();
  }
  const privateKey = createPrivateKey({ key: key as never, format: "jwk" });
  return sign(key.alg === "EdDSA" ? null : "sha256", Buffer.from(input), {
    key: privateKey,
    dsaEncoding: "ieee-p1363",
  });
}

/**
 * A compact JWS over any header and payload, signed without a JOSE library so that headers a
 * library would refuse to produce (`crit`, `b64`, odd spellings) can be tested.
 */
export function signRaw(key: SigningKey, header: unknown, payload: unknown): string {
  const input = `${segment(header)}.${segment(payload)}`;
  return `${input}.${signatureOf(key, input).toString("base64url")}`;
}

/** The reason `tokens` refuses `token` for, failing the test if it is accepted. */
export async function refusal(tokens: Tokens, token: unknown): Promise<string> {
  const error = await tokens.verifyAccessToken(token).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidTokenError);
  expect(error).toMatchObject({ code: "invalid_token" });
  return (error as InvalidTokenError).reason;
}
