/** `n` bytes from the platform CSPRNG (Web Crypto: Node, Bun, Deno, workers). */
export function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

// A call into the CSPRNG costs microseconds whatever its size (more than signing an HS256
// token), so ids are cut from a pool refilled 4 KiB at a time, as Node's randomUUID does. Each
// byte is used once. Ids name things (sessions, tokens, keys); secrets still come straight from
// randomBytes.
const idPool = new Uint8Array(4096);
let idPoolOffset = idPool.length;
const ID_BYTES = 16;

/** A random URL-safe id with 128 bits of entropy. */
export function randomId(): string {
  if (idPoolOffset === idPool.length) {
    crypto.getRandomValues(idPool);
    idPoolOffset = 0;
  }
  const id = base64urlEncode(idPool.subarray(idPoolOffset, idPoolOffset + ID_BYTES));
  idPoolOffset += ID_BYTES;
  return id;
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

/** {@link timingSafeEqual} for bytes (MACs): lengths are public, contents are compared in full. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

export const utf8 = new TextEncoder();

/** Decodes UTF-8 and throws on invalid sequences, so a token cannot smuggle in U+FFFD. */
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

// Allocating an ArrayBuffer costs about as much as encoding a whole token, so the functions
// below work in two shared buffers, on bytes consumed before the next call that uses the same
// buffer: `text` holds the UTF-8 of a string (transientUtf8, and the characters decodeInto
// reads), `bytes` the output of base64urlEncode and base64urlText. Larger inputs get their own.
const scratch = { text: new Uint8Array(16_384), bytes: new Uint8Array(16_384) };

function buffer(name: keyof typeof scratch, size: number): Uint8Array {
  return size <= scratch[name].length ? scratch[name] : new Uint8Array(size);
}

/**
 * The UTF-8 bytes of `text` in a buffer that the next call here working on text overwrites
 * (this one, base64url decoding): only for consumers that finish with them synchronously (a
 * hash, Node's one-shot signature calls, base64urlEncode).
 */
export function transientUtf8(text: string): Uint8Array {
  const { read, written } = utf8.encodeInto(text, scratch.text);
  return read === text.length ? scratch.text.subarray(0, written) : utf8.encode(text);
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const CODES = utf8.encode(ALPHABET);
// The 6-bit value of each ASCII character; 64 flags one outside the alphabet.
const SEXTETS = new Uint8Array(128).fill(64);
for (let i = 0; i < ALPHABET.length; i++) SEXTETS[ALPHABET.charCodeAt(i)] = i;

/** Base64url without padding (RFC 7515 §2), as every JWS segment is encoded. */
export function base64urlEncode(bytes: Uint8Array): string {
  const out = buffer("bytes", Math.ceil((bytes.length * 4) / 3));
  const whole = bytes.length - (bytes.length % 3);
  let o = 0;
  let i = 0;
  for (; i < whole; i += 3) {
    const n =
      ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    out[o++] = CODES[n >> 18] as number;
    out[o++] = CODES[(n >> 12) & 63] as number;
    out[o++] = CODES[(n >> 6) & 63] as number;
    out[o++] = CODES[n & 63] as number;
  }
  if (i < bytes.length) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] ?? 0) << 8);
    out[o++] = CODES[n >> 18] as number;
    out[o++] = CODES[(n >> 12) & 63] as number;
    if (i + 1 < bytes.length) out[o++] = CODES[(n >> 6) & 63] as number;
  }
  // The output is ASCII, which the UTF-8 decoder turns into a string faster than any JS loop.
  return strictUtf8.decode(out.subarray(0, o));
}

/**
 * Strict base64url (RFC 7515 §2) into `out`: only the URL-safe alphabet, no padding, no
 * whitespace, and the unused low bits of the last character must be zero, so every byte string
 * has exactly one accepted encoding. The number of bytes written, or -1 for anything else.
 */
function decodeInto(text: string, out: Uint8Array): number {
  const tail = text.length & 3;
  if (tail === 1) return -1;
  // The characters as bytes: encodeInto fills them natively, and reading a typed array is
  // several times faster than charCodeAt. Only ASCII is one byte per character; anything else
  // is not base64url anyway.
  const chars = buffer("text", text.length);
  const { read, written } = utf8.encodeInto(text, chars);
  if (read !== text.length || written !== text.length) return -1;
  // Any character outside the alphabet sets bit 6 of `flags`, checked once at the end.
  let flags = 0;
  const whole = text.length - tail;
  let o = 0;
  for (let i = 0; i < whole; i += 4) {
    const s0 = SEXTETS[chars[i] as number] as number;
    const s1 = SEXTETS[chars[i + 1] as number] as number;
    const s2 = SEXTETS[chars[i + 2] as number] as number;
    const s3 = SEXTETS[chars[i + 3] as number] as number;
    flags |= s0 | s1 | s2 | s3;
    const n = (s0 << 18) | (s1 << 12) | (s2 << 6) | s3;
    out[o++] = n >> 16;
    out[o++] = (n >> 8) & 255;
    out[o++] = n & 255;
  }
  let n = 0;
  for (let i = whole; i < text.length; i++) {
    const value = SEXTETS[chars[i] as number] as number;
    flags |= value;
    n = (n << 6) | value;
  }
  if (tail === 2) {
    // 12 bits for one byte: the low 4 must be zero.
    if ((n & 15) !== 0) return -1;
    out[o++] = n >> 4;
  } else if (tail === 3) {
    // 18 bits for two bytes: the low 2 must be zero.
    if ((n & 3) !== 0) return -1;
    out[o++] = n >> 10;
    out[o++] = (n >> 2) & 255;
  }
  return flags & 64 ? -1 : o;
}

function decodedLength(text: string): number {
  return (text.length * 3) >> 2;
}

/** Strict base64url (see {@link decodeInto}) to bytes, or `undefined`. */
export function base64urlDecode(text: string): Uint8Array<ArrayBuffer> | undefined {
  const out = new Uint8Array(decodedLength(text));
  return decodeInto(text, out) < 0 ? undefined : out;
}

/** Strict base64url holding strict UTF-8 (a JWS header or payload) to text, or `undefined`. */
export function base64urlText(text: string): string | undefined {
  const out = buffer("bytes", decodedLength(text));
  const length = decodeInto(text, out);
  if (length < 0) return undefined;
  try {
    return strictUtf8.decode(out.subarray(0, length));
  } catch {
    return undefined;
  }
}
