import { base64url } from "jose";

/** `n` bytes from the platform CSPRNG (Web Crypto: Node, Bun, Deno, workers). */
export function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

/** A random URL-safe id with 128 bits of entropy. */
export function randomId(): string {
  return base64url.encode(randomBytes(16));
}

/**
 * Compares two strings in time independent of where they differ, so comparing a secret-derived
 * value leaks nothing through timing. Lengths are not secret here (all hashes have one length).
 */
export function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export const utf8 = new TextEncoder();
