import { base64url } from "jose";
import { base64urlDecode, base64urlEncode, randomBytes, utf8 } from "./bytes.js";
import { sha256 } from "./sha256.js";

/**
 * Refresh tokens are `tokens_rt_` + base64url(32 CSPRNG bytes): 256 bits of secret behind a
 * prefix that secret scanners can match (`tokens_rt_[A-Za-z0-9_-]{43}`).
 */
export const REFRESH_TOKEN_PREFIX = "tokens_rt_";
const SECRET_BYTES = 32;
const TOKEN_PATTERN = /^tokens_rt_[A-Za-z0-9_-]{43}$/;

// Domain separation: the stored hash and the sealing pad are both SHA-256 of the secret, under
// different labels, so the hash in the database reveals nothing about the pad.
const HASH_LABEL = utf8.encode("tokens/refresh-token/hash/v1\0");
const SEAL_LABEL = utf8.encode("tokens/refresh-token/seal/v1\0");

function labelled(label: Uint8Array, secret: Uint8Array): Uint8Array {
  const input = new Uint8Array(label.length + secret.length);
  input.set(label);
  input.set(secret, label.length);
  return sha256(input);
}

/** A fresh refresh-token secret. */
export function newSecret(): Uint8Array {
  return randomBytes(SECRET_BYTES);
}

/** The token string handed to the client. */
export function formatToken(secret: Uint8Array): string {
  return REFRESH_TOKEN_PREFIX + base64urlEncode(secret);
}

/**
 * The secret inside a presented token, or `null` if it is not a token of ours. Strict base64url:
 * the last character's two unused bits must be zero, as in every token core issues, so each
 * secret has exactly one spelling.
 */
export function parseToken(token: string): Uint8Array | null {
  if (token.length !== REFRESH_TOKEN_PREFIX.length + 43 || !TOKEN_PATTERN.test(token)) return null;
  const secret = base64urlDecode(token.slice(REFRESH_TOKEN_PREFIX.length));
  return secret?.length === SECRET_BYTES ? secret : null;
}

/** What the store keeps instead of the token: base64url(SHA-256(label ‖ secret)). */
export function hashSecret(secret: Uint8Array): string {
  return base64urlEncode(labelled(HASH_LABEL, secret));
}

/**
 * Seals the successor's secret under the predecessor's: XOR with SHA-256(seal label ‖
 * predecessor secret). Each predecessor seals exactly one successor, so the pad is used once;
 * without the predecessor's 256-bit secret (never stored) the sealed value is noise. Opening is
 * the same operation; the caller checks the opened secret against the live token's hash.
 */
export function sealSecret(secret: Uint8Array, under: Uint8Array): string {
  return base64urlEncode(xor(secret, labelled(SEAL_LABEL, under)));
}

/** Opens a sealed successor with the predecessor's secret, or `null` if the input is corrupt. */
export function openSealed(sealed: string, under: Uint8Array): Uint8Array | null {
  let bytes: Uint8Array;
  try {
    bytes = base64url.decode(sealed);
  } catch {
    return null;
  }
  return bytes.length === SECRET_BYTES ? xor(bytes, labelled(SEAL_LABEL, under)) : null;
}

function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] as number) ^ (b[i] as number);
  return out;
}
