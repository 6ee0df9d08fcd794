import { TokensError } from "@tokens/core";

/** Token endpoint answers carry secrets or per-request state: never cache them (RFC 6749 §5.1). */
export const NO_STORE = { "cache-control": "no-store", pragma: "no-cache" } as const;

/** A JSON response. `body === undefined` gives an empty body. */
export function json(status: number, body: unknown, headers: HeadersInit = {}): Response {
  const all = new Headers(headers);
  if (body === undefined) return new Response(null, { status, headers: all });
  all.set("content-type", "application/json");
  return new Response(JSON.stringify(body), { status, headers: all });
}

/**
 * RFC 6749 §5.2 allows only printable ASCII without `"` and `\` in `error_description`; the same
 * set keeps a description safe inside a quoted `WWW-Authenticate` parameter (RFC 6750 §3).
 */
export function describe(message: string): string {
  const cleaned = message.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, " ").trim();
  return cleaned === "" ? "Request refused" : cleaned.slice(0, 300);
}

/** An RFC 6749 §5.2 error answer, not cacheable. */
export function oauthError(
  status: number,
  error: string,
  description: string,
  headers: HeadersInit = {},
): Response {
  const all = new Headers(headers);
  for (const [name, value] of Object.entries(NO_STORE)) all.set(name, value);
  return json(status, { error, error_description: describe(description) }, all);
}

/** 405 with the `Allow` header RFC 9110 §15.5.6 requires. */
export function methodNotAllowed(allowed: readonly string[]): Response {
  return oauthError(405, "invalid_request", "Method not allowed", { allow: allowed.join(", ") });
}

/** Carries an already-built answer out of nested parsing code. */
export class HttpFailure extends Error {
  constructor(readonly response: Response) {
    super(`HTTP ${response.status}`);
    this.name = "HttpFailure";
  }
}

/**
 * Maps an error thrown by core to its answer, or `undefined` for a fault of the server (the
 * caller answers 500 and reports it). Client-caused errors never become a 500.
 */
export function tokensErrorResponse(error: unknown, retryAfter: number): Response | undefined {
  if (error instanceof HttpFailure) return error.response;
  if (!(error instanceof TokensError)) return undefined;
  switch (error.code) {
    case "invalid_request":
    case "invalid_grant":
    case "unsupported_grant_type":
      return oauthError(400, error.code, error.message);
    case "invalid_token":
      return oauthError(401, error.code, error.message);
    case "temporarily_unavailable":
      return oauthError(503, error.code, "The token store is temporarily unavailable", {
        "retry-after": String(retryAfter),
      });
    default:
      return undefined;
  }
}

/** The generic answer to a server fault: no detail leaks to the client. */
export function serverError(): Response {
  return oauthError(500, "server_error", "Internal server error");
}
