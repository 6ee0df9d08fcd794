import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 as portableSha256 } from "@noble/hashes/sha2.js";
import { sha256 } from "./sha256.js";

/**
 * An HMAC-SHA-256 key kept as its two padded blocks (RFC 2104: the key XOR ipad, the key XOR
 * opad), so a MAC is two SHA-256 one-shots over prepared buffers rather than a keyed-hash
 * object per call — a refresh checks one tag and makes another.
 */
export interface HmacKey {
  readonly inner: Uint8Array;
  readonly outer: Uint8Array;
}

const BLOCK = 64;

/** HMAC-SHA-256's padded blocks of a key of at most one block. */
export function hmacKey(key: Uint8Array): HmacKey {
  if (key.length > BLOCK) throw new Error("HMAC key longer than one block");
  const inner = new Uint8Array(BLOCK).fill(0x36);
  const outer = new Uint8Array(BLOCK).fill(0x5c);
  for (let i = 0; i < key.length; i++) {
    inner[i] = (inner[i] as number) ^ (key[i] as number);
    outer[i] = (outer[i] as number) ^ (key[i] as number);
  }
  return { inner, outer };
}

/**
 * An HMAC key derived (HKDF-SHA-256, `info` naming its one purpose) from a signing key's
 * private part: it lives wherever the signing keys live and never in the database.
 */
export function derivedHmacKey(privatePart: Uint8Array, info: Uint8Array): HmacKey {
  return hmacKey(hkdf(portableSha256, privatePart, undefined, info, 32));
}

/** HMAC-SHA-256(key, label ‖ message). */
export function hmacSha256(key: HmacKey, label: Uint8Array, message: Uint8Array): Uint8Array {
  const inner = new Uint8Array(BLOCK + label.length + message.length);
  inner.set(key.inner);
  inner.set(label, BLOCK);
  inner.set(message, BLOCK + label.length);
  const outer = new Uint8Array(BLOCK + 32);
  outer.set(key.outer);
  outer.set(sha256(inner), BLOCK);
  return sha256(outer);
}
