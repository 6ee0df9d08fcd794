import { InvalidTokenError } from "../errors.js";
import type { SigningAlgorithm } from "../types.js";
import { base64urlDecode, base64urlEncode, base64urlText, transientUtf8, utf8 } from "./bytes.js";
import type { LoadedKey, LoadedKeys } from "./key-ring.js";

/**
 * Compact JWS (RFC 7515) for access tokens, over the configured keys only: the verifier accepts
 * exactly what core signs and what RFC 9068 allows, and nothing a general-purpose JOSE library
 * would also entertain (unencoded payloads, extensions, keys named by the token).
 */

/** The `typ` spellings of an RFC 9068 access token whose headers are looked up, not decoded. */
const CACHED_TYPES = ["at+jwt", "application/at+jwt"];

/** A protected header as core writes it, base64url-encoded. */
export function encodeHeader(alg: SigningAlgorithm, kid: string, typ = "at+jwt"): string {
  return base64urlEncode(utf8.encode(JSON.stringify({ alg, typ, kid })));
}

/**
 * The header segments a key's tokens carry when written as core writes them (core itself, and
 * any signer emitting `{"alg","typ","kid"}` in that order). They are valid by construction, so
 * verification looks them up instead of decoding and checking them on every call. Only these
 * are kept — two per key, fixed when keys load — so no token can grow the table; any other
 * spelling of a valid header (member order, whitespace, `typ` case) is checked on every use.
 */
export function cachedHeaders(alg: SigningAlgorithm, kid: string): string[] {
  return CACHED_TYPES.map((typ) => encodeHeader(alg, kid, typ));
}

/** The `invalid_claims` error for one claim (or the `typ` header) failing its check. */
export function claimCheckFailed(claim: string): InvalidTokenError {
  return new InvalidTokenError("invalid_claims", `access token claim check failed: ${claim}`);
}

function malformed(): InvalidTokenError {
  return new InvalidTokenError("malformed", "access token is malformed");
}

function unsupported(message: string): InvalidTokenError {
  return new InvalidTokenError("unsupported_algorithm", message);
}

/**
 * Verifies a compact JWS and returns its payload, a JSON object. Exactly three segments of
 * strict base64url; the header must name a configured key by `kid` and that key's algorithm
 * (so `none`, algorithm confusion and foreign keys fail), carry `typ` `at+jwt`, and use no
 * extension (`crit`, `b64`). `jku`, `x5u`, `jwk` and `x5c` are never read: keys come only from
 * the configuration. Answers synchronously (returning or throwing) when the key's backend does,
 * so the caller's promise settles without extra turns of the event loop.
 */
export function verifyCompact(
  keys: LoadedKeys,
  token: string,
): Record<string, unknown> | Promise<Record<string, unknown>> {
  const headerEnd = token.indexOf(".");
  const payloadEnd = token.indexOf(".", headerEnd + 1);
  if (headerEnd < 0 || payloadEnd < 0 || token.includes(".", payloadEnd + 1)) throw malformed();
  const header = token.slice(0, headerEnd);
  let key = keys.headers.get(header);
  let typed = true;
  if (!key) ({ key, typed } = checkHeader(keys, header));
  const signature = base64urlDecode(token.slice(payloadEnd + 1));
  if (!signature) throw malformed();
  const payload = token.slice(headerEnd + 1, payloadEnd);
  let valid: boolean | Promise<boolean>;
  try {
    valid = key.verify(token.slice(0, payloadEnd), signature);
  } catch {
    // A signature the backend cannot even parse (wrong length, out of range) is not valid.
    valid = false;
  }
  return typeof valid === "boolean"
    ? verifiedPayload(valid, payload, typed)
    : valid.then(
        (ok) => verifiedPayload(ok, payload, typed),
        () => verifiedPayload(false, payload, typed),
      );
}

/**
 * The payload of a token whose signature check answered `valid`. A wrong `typ` is reported
 * only here, after the signature and the payload, as it always was: a forged or garbled token
 * is refused as such whatever its `typ`.
 */
function verifiedPayload(valid: boolean, segment: string, typed: boolean): Record<string, unknown> {
  if (!valid) throw new InvalidTokenError("invalid_signature", "access token signature is invalid");
  const payload = decodeJson(segment);
  if (!payload) throw malformed();
  if (!typed) throw claimCheckFailed("typ");
  return payload;
}

/**
 * Decodes and checks a header that is not one of the cached spellings: the key it names, and
 * whether its `typ` is an access token's. The order of the checks fixes which reason a token
 * failing several of them gets.
 */
function checkHeader(keys: LoadedKeys, segment: string): { key: LoadedKey; typed: boolean } {
  const header = decodeJson(segment);
  if (!header) throw malformed();
  if (Object.hasOwn(header, "crit")) {
    const { crit } = header;
    const wellFormed =
      Array.isArray(crit) &&
      crit.length > 0 &&
      crit.every((name) => typeof name === "string" && name.length > 0);
    if (!wellFormed) throw malformed();
    // No extension is understood here, so every critical one is refused (RFC 7515 §4.1.11).
    throw unsupported("access token header names a critical extension");
  }
  // RFC 7797 unencoded payloads are not JWTs (RFC 7519 §7.2).
  if (Object.hasOwn(header, "b64")) throw unsupported("access token payload must be encoded");
  const { alg, kid, typ } = header;
  if (typeof alg !== "string" || alg.length === 0) throw malformed();
  // Checked before the key is chosen: an algorithm no key is configured for is refused as such.
  if (!keys.algorithms.has(alg)) throw unsupported("access token algorithm is not allowed");
  const key = typeof kid === "string" ? keys.byKid.get(kid) : undefined;
  if (!key) throw new InvalidTokenError("unknown_key", "access token names an unknown key");
  if (alg !== key.alg) throw unsupported("access token algorithm does not match its key");
  return { key, typed: typeof typ === "string" && mediaType(typ) === "application/at+jwt" };
}

/** RFC 7515 §4.1.9: `typ` may omit `application/`; media types compare case-insensitively. */
function mediaType(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.includes("/") ? lower : `application/${lower}`;
}

/** A base64url segment holding a JSON object, or `undefined`. */
function decodeJson(segment: string): Record<string, unknown> | undefined {
  const text = base64urlText(segment);
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** Signs `payload` as a compact JWS under `key`, with the header encoded when keys loaded. */
export async function signCompact(key: LoadedKey, payload: object): Promise<string> {
  const input = `${key.header}.${base64urlEncode(transientUtf8(JSON.stringify(payload)))}`;
  return `${input}.${base64urlEncode(await key.sign(input))}`;
}
