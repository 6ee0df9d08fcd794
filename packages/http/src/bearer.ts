import { type Answer, describe, json } from "./responses.js";

/**
 * The `Authorization` schemes an access token is accepted with: `Bearer` (RFC 6750) and `DPoP`
 * (RFC 9449 §7.1, a token bound to a key the request proves possession of).
 */
export type AuthScheme = "Bearer" | "DPoP";

/** How the `Authorization` header of a request reads. */
export type BearerCredential =
  | { kind: "missing" }
  | { kind: "malformed"; scheme: AuthScheme }
  | { kind: "token"; token: string; scheme: AuthScheme };

// RFC 6750 §2.1 and RFC 9449 §7.1: credentials = scheme 1*SP token68; schemes are
// case-insensitive.
const CREDENTIALS = /^(bearer|dpop)(?: +([A-Za-z0-9\-._~+/]+=*))? *$/i;
const SCHEME = /^(bearer|dpop)(?: |$)/i;

/**
 * Reads the access token from an `Authorization` header value. Another scheme counts as missing
 * (RFC 6750 §3.1: the client did not attempt token authentication).
 */
export function readBearer(authorization: string | undefined): BearerCredential {
  const header = authorization?.trim();
  const named = header === undefined ? null : SCHEME.exec(header);
  if (header === undefined || named === null) return { kind: "missing" };
  const scheme: AuthScheme = named[1]?.toLowerCase() === "dpop" ? "DPoP" : "Bearer";
  const token = CREDENTIALS.exec(header)?.[2];
  return token === undefined ? { kind: "malformed", scheme } : { kind: "token", token, scheme };
}

/** What a challenge says beyond its status. */
export interface Challenge {
  /** The scheme the error concerns; a challenge without an error offers every scheme. */
  scheme?: AuthScheme;
  error?: "invalid_request" | "invalid_token" | "invalid_dpop_proof" | "use_dpop_nonce";
  description?: string;
  /** Proof algorithms accepted (RFC 9449 §7.1 `algs`); `undefined` when DPoP is off. */
  dpopAlgorithms?: readonly string[] | undefined;
  /** A `DPoP-Nonce` to send (RFC 9449 §9). */
  nonce?: string | undefined;
}

/**
 * RFC 6750 §3 / RFC 9449 §7.1 challenge: without an error, one challenge per accepted scheme;
 * with one, the error in a challenge of the scheme it concerns (`DPoP` ones name the accepted
 * proof algorithms).
 */
export function bearerChallenge(status: 400 | 401, challenge: Challenge = {}): Answer {
  const { error, dpopAlgorithms, nonce } = challenge;
  const algs = dpopAlgorithms === undefined ? undefined : `algs="${dpopAlgorithms.join(" ")}"`;
  const headers: Record<string, string> = { "cache-control": "no-store" };
  if (nonce !== undefined) headers["dpop-nonce"] = nonce;
  if (error === undefined) {
    headers["www-authenticate"] = algs === undefined ? "Bearer" : `Bearer, DPoP ${algs}`;
    return json(status, undefined, headers);
  }
  const text = describe(challenge.description ?? error);
  const scheme = challenge.scheme ?? "Bearer";
  const parameters = [`error="${error}"`, `error_description="${text}"`];
  if (scheme === "DPoP" && algs !== undefined) parameters.push(algs);
  headers["www-authenticate"] = `${scheme} ${parameters.join(", ")}`;
  return json(status, { error, error_description: text }, headers);
}
