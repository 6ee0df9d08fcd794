import { type Answer, describe, json } from "./responses.js";

/** How the `Authorization` header of a request reads. */
export type BearerCredential =
  | { kind: "missing" }
  | { kind: "malformed" }
  | { kind: "token"; token: string };

// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token; the scheme is case-insensitive.
const BEARER = /^bearer(?: +([A-Za-z0-9\-._~+/]+=*))? *$/i;
const SCHEME = /^bearer(?: |$)/i;

/**
 * Reads the bearer token from an `Authorization` header value. Another scheme counts as missing
 * (RFC 6750 §3.1: the client did not attempt bearer authentication).
 */
export function readBearer(authorization: string | undefined): BearerCredential {
  const header = authorization?.trim();
  if (header === undefined || header === "" || !SCHEME.test(header)) return { kind: "missing" };
  const match = BEARER.exec(header);
  const token = match?.[1];
  return token === undefined ? { kind: "malformed" } : { kind: "token", token };
}

/** RFC 6750 §3 challenge: no error for a missing token, the error and its description otherwise. */
export function bearerChallenge(
  status: 400 | 401,
  error?: "invalid_request" | "invalid_token",
  description?: string,
): Answer {
  if (error === undefined) {
    return json(status, undefined, { "www-authenticate": "Bearer", "cache-control": "no-store" });
  }
  const text = describe(description ?? error);
  return json(
    status,
    { error, error_description: text },
    {
      "www-authenticate": `Bearer error="${error}", error_description="${text}"`,
      "cache-control": "no-store",
    },
  );
}
