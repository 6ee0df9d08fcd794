import { base64url } from "jose";
import { base64urlDecode, base64urlEncode, bytesEqual, randomBytes, utf8 } from "./bytes.js";
import { derivedHmacKey, type HmacKey, hmacSha256 } from "./hmac.js";
import { sha256 } from "./sha256.js";

/**
 * A refresh token is `tokens_rt_` + base64url of 68 bytes:
 *
 * | bytes | what |
 * |---|---|
 * | 16 | the session id (the access token's `sid`) |
 * | 4 | the generation, unsigned big-endian |
 * | 32 | the secret: CSPRNG bytes, of which the store keeps only a hash |
 * | 16 | a tag: HMAC-SHA-256 of the 52 bytes before it under a key derived from a signing key |
 *
 * The session id makes the lookup a primary-key read; the secret is what proves possession (its
 * hash must be the session's live or previous hash); the tag proves that core issued this
 * (session, generation, secret), so a spent genuine token of an older generation — theft — is
 * told apart from a forgery that names a real session, without a row per token. Secret scanners
 * match `tokens_rt_[A-Za-z0-9_-]{91}`.
 */
export const REFRESH_TOKEN_PREFIX = "tokens_rt_";
const SESSION_ID_BYTES = 16;
const GENERATION_BYTES = 4;
const SECRET_BYTES = 32;
const TAG_BYTES = 16;
const SIGNED_BYTES = SESSION_ID_BYTES + GENERATION_BYTES + SECRET_BYTES;
const TOKEN_BYTES = SIGNED_BYTES + TAG_BYTES;
const TOKEN_CHARS = Math.ceil((TOKEN_BYTES * 4) / 3);
const MAX_GENERATION = 0xffff_ffff;

// Domain separation: the stored hash and the sealing pad are both SHA-256 of the secret, under
// different labels, so the hash in the database reveals nothing about the pad.
const HASH_LABEL = utf8.encode("tokens/refresh-token/hash/v1\0");
const SEAL_LABEL = utf8.encode("tokens/refresh-token/seal/v1\0");
const TAG_LABEL = utf8.encode("tokens/refresh-token/tag/v2\0");
const TAG_KEY_INFO = utf8.encode("tokens/refresh-token/tag-key/v2");

/** What a refresh token says: whose it is, which generation, and its secret. */
export interface RefreshToken {
  sessionId: string;
  generation: number;
  secret: Uint8Array;
}

/** A parsed token: what it says plus the bytes its tag covers and the tag. */
export interface ParsedToken extends RefreshToken {
  signed: Uint8Array;
  tag: Uint8Array;
}

function labelled(label: Uint8Array, secret: Uint8Array): Uint8Array {
  const input = new Uint8Array(label.length + secret.length);
  input.set(label);
  input.set(secret, label.length);
  return sha256(input);
}

/** A key that tags refresh tokens (see {@link tagKey}). */
export type TagKey = HmacKey;

/**
 * The key that tags refresh tokens, derived from a signing key's private part, so a leaked
 * database cannot tag a token.
 */
export function tagKey(privatePart: Uint8Array): TagKey {
  return derivedHmacKey(privatePart, TAG_KEY_INFO);
}

/** HMAC-SHA-256(key, label ‖ signed), cut to the tag's length. */
function tagOf(key: TagKey, signed: Uint8Array): Uint8Array {
  return hmacSha256(key, TAG_LABEL, signed).subarray(0, TAG_BYTES);
}

/** A fresh refresh-token secret. */
export function newSecret(): Uint8Array {
  return randomBytes(SECRET_BYTES);
}

/** The token string handed to the client, tagged under `key`. */
export function formatToken(token: RefreshToken, key: TagKey): string {
  const sessionId = base64urlDecode(token.sessionId);
  if (sessionId?.length !== SESSION_ID_BYTES) throw new Error("session id is not 16 bytes");
  if (
    !Number.isInteger(token.generation) ||
    token.generation < 0 ||
    token.generation > MAX_GENERATION
  ) {
    throw new Error("generation out of range");
  }
  const bytes = new Uint8Array(TOKEN_BYTES);
  bytes.set(sessionId);
  new DataView(bytes.buffer).setUint32(SESSION_ID_BYTES, token.generation);
  bytes.set(token.secret, SESSION_ID_BYTES + GENERATION_BYTES);
  bytes.set(tagOf(key, bytes.subarray(0, SIGNED_BYTES)), SIGNED_BYTES);
  return REFRESH_TOKEN_PREFIX + base64urlEncode(bytes);
}

/**
 * What a presented token says, or `null` if it is not shaped like a token of ours. Strict
 * base64url: the last character's unused bits must be zero, as in every token core issues, so
 * each token has exactly one spelling. The tag is not checked here: see {@link hasValidTag}.
 */
export function parseToken(token: string): ParsedToken | null {
  // The length and prefix, then strict decoding: it refuses any character outside the alphabet.
  if (
    token.length !== REFRESH_TOKEN_PREFIX.length + TOKEN_CHARS ||
    !token.startsWith(REFRESH_TOKEN_PREFIX)
  ) {
    return null;
  }
  const bytes = base64urlDecode(token.slice(REFRESH_TOKEN_PREFIX.length));
  if (bytes?.length !== TOKEN_BYTES) return null;
  return {
    sessionId: base64urlEncode(bytes.subarray(0, SESSION_ID_BYTES)),
    generation: new DataView(bytes.buffer).getUint32(SESSION_ID_BYTES),
    secret: bytes.subarray(SESSION_ID_BYTES + GENERATION_BYTES, SIGNED_BYTES),
    signed: bytes.subarray(0, SIGNED_BYTES),
    tag: bytes.subarray(SIGNED_BYTES),
  };
}

/** Whether the token's tag verifies under one of `keys` (each compared in constant time). */
export function hasValidTag(token: ParsedToken, keys: readonly TagKey[]): boolean {
  let valid = false;
  for (const key of keys) if (bytesEqual(tagOf(key, token.signed), token.tag)) valid = true;
  return valid;
}

/** What the store keeps instead of the secret: base64url(SHA-256(label ‖ secret)). */
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
