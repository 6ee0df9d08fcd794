import {
  base64url,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
} from "jose";
import { randomText } from "./harness.js";

/** A client's DPoP key pair, as a test holds it. */
export interface DpopTestKey {
  /** The algorithm its proofs are signed with. */
  alg: "ES256" | "EdDSA" | "RS256";
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** The public JWK proofs carry in their `jwk` header. */
  publicJwk: JWK;
  /** Its RFC 7638 thumbprint: what a bound session's `dpopJkt` and a token's `cnf.jkt` hold. */
  jkt: string;
}

/**
 * A fresh DPoP key pair (ES256 unless asked otherwise), made with jose as a client would.
 *
 * @example
 * ```ts
 * import { dpopKey, dpopProof } from "@tokens/core/testing";
 *
 * const key = await dpopKey();
 * const proof = await dpopProof(key, { htm: "POST", htu: "https://auth.example.test/auth/token" });
 * ```
 */
export async function dpopKey(alg: DpopTestKey["alg"] = "ES256"): Promise<DpopTestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  return {
    alg,
    privateKey,
    publicKey,
    publicJwk,
    jkt: await calculateJwkThumbprint(publicJwk, "sha256"),
  };
}

/** What a proof is for, and anything a test wants to make wrong in it. */
export interface DpopProofOptions {
  /** The request method. */
  htm: string;
  /** The request URL. */
  htu: string;
  /** For a request to a resource: the access token, whose hash becomes `ath`. */
  accessToken?: string;
  /** The server's nonce. */
  nonce?: string;
  /** `iat` in epoch seconds. Default: now. */
  iat?: number;
  /** Default: random. */
  jti?: string;
  /** Replaces or adds protected header members (`typ`, `jwk`, …). */
  header?: Record<string, unknown>;
  /** Replaces or adds claims (`undefined` removes one). */
  claims?: Record<string, unknown>;
}

/**
 * An RFC 9449 DPoP proof made with `key`, signed by jose: `typ: dpop+jwt`, the public `jwk`,
 * `jti`, `htm`, `htu`, `iat` and, when given, `ath` and `nonce`.
 *
 * @example
 * ```ts
 * import { dpopKey, dpopProof } from "@tokens/core/testing";
 *
 * const key = await dpopKey("EdDSA");
 * const dpop = {
 *   proof: await dpopProof(key, { htm: "GET", htu: url, accessToken }),
 *   method: "GET",
 *   url,
 *   scheme: "DPoP" as const,
 * };
 * await tokens.verifyAccessToken(accessToken, { dpop });
 * ```
 */
export async function dpopProof(key: DpopTestKey, options: DpopProofOptions): Promise<string> {
  const payload: JWTPayload = {
    jti: options.jti ?? randomText(),
    htm: options.htm,
    htu: options.htu,
    iat: options.iat ?? Math.floor(Date.now() / 1000),
  };
  if (options.accessToken !== undefined) {
    const digest = await crypto.subtle.digest(
      "SHA-256",
      new TextEncoder().encode(options.accessToken),
    );
    payload.ath = base64url.encode(new Uint8Array(digest));
  }
  if (options.nonce !== undefined) payload.nonce = options.nonce;
  Object.assign(payload, options.claims);
  for (const [name, value] of Object.entries(payload)) {
    if (value === undefined) delete payload[name];
  }
  return new SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, typ: "dpop+jwt", jwk: key.publicJwk, ...options.header })
    .sign(key.privateKey);
}
