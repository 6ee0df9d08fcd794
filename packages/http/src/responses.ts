import { TokensError, UseDpopNonceError } from "@tokens/core";

/**
 * A handler's answer as plain data. It becomes a web `Response` at the edge of the public API,
 * or is written straight to a Node response by the Node adapter, so the handlers never pay for
 * building a `Response` that is only taken apart again.
 */
export interface Answer {
  status: number;
  /** Lower-case names. `set-cookie` is always an array, one entry per cookie. */
  headers: Record<string, string | string[]>;
  /** `null` for no body. */
  body: string | null;
}

/** Token endpoint answers carry secrets or per-request state: never cache them (RFC 6749 §5.1). */
export const NO_STORE = { "cache-control": "no-store", pragma: "no-cache" } as const;

/** Every JSON answer's type; nosniff so a browser never renders one as anything else. */
export const JSON_CONTENT = {
  "content-type": "application/json",
  "x-content-type-options": "nosniff",
} as const;

/** A JSON answer. `body === undefined` gives an empty body. */
export function json(
  status: number,
  body: unknown,
  headers: Record<string, string | string[]> = {},
): Answer {
  if (body === undefined) return { status, headers: { ...headers }, body: null };
  return {
    status,
    headers: { ...headers, ...JSON_CONTENT },
    body: JSON.stringify(body),
  };
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
  headers: Record<string, string> = {},
): Answer {
  return json(
    status,
    { error, error_description: describe(description) },
    { ...headers, ...NO_STORE },
  );
}

/** 405 with the `Allow` header RFC 9110 §15.5.6 requires. */
export function methodNotAllowed(allowed: readonly string[]): Answer {
  return oauthError(405, "invalid_request", "Method not allowed", { allow: allowed.join(", ") });
}

/** Appends a `Set-Cookie` to an answer. */
export function withCookie(answer: Answer, cookie: string): Answer {
  const existing = answer.headers["set-cookie"];
  answer.headers["set-cookie"] = existing === undefined ? [cookie] : [...existing, cookie];
  return answer;
}

/** Carries an already-built answer out of nested parsing code. */
export class HttpFailure extends Error {
  constructor(readonly answer: Answer) {
    super(`HTTP ${answer.status}`);
    this.name = "HttpFailure";
  }
}

/**
 * The client went away before its request body arrived in full. Nothing is wrong with the
 * server, so this is never reported as a fault; the answer goes nowhere.
 */
export class ClientAbort extends Error {
  constructor(cause?: unknown) {
    super("The client closed the connection before the request body arrived", { cause });
    this.name = "ClientAbort";
  }
}

/**
 * Maps an error thrown by core to its answer, or `undefined` for a fault of the server (the
 * caller answers 500 and reports it). Client-caused errors never become a 500.
 */
export function tokensErrorResponse(error: unknown, retryAfter: number): Answer | undefined {
  if (error instanceof HttpFailure) return error.answer;
  if (error instanceof ClientAbort) {
    return oauthError(400, "invalid_request", "The request body was not received in full");
  }
  if (!(error instanceof TokensError)) return undefined;
  switch (error.code) {
    case "invalid_request":
    case "invalid_grant":
    case "unsupported_grant_type":
    case "invalid_dpop_proof":
      return oauthError(400, error.code, error.message);
    case "use_dpop_nonce":
      // RFC 9449 §8: the client retries with the nonce this header carries.
      return oauthError(
        400,
        error.code,
        error.message,
        error instanceof UseDpopNonceError ? { "dpop-nonce": error.nonce } : {},
      );
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
export function serverError(): Answer {
  return oauthError(500, "server_error", "Internal server error");
}

/** An answer as a web `Response`. */
export function toResponse(answer: Answer): Response {
  const cookies = answer.headers["set-cookie"];
  if (cookies === undefined || typeof cookies === "string") {
    return new Response(answer.body, {
      status: answer.status,
      headers: answer.headers as Record<string, string>,
    });
  }
  // A record cannot hold two Set-Cookie values: append them one by one.
  const headers = new Headers();
  for (const [name, value] of Object.entries(answer.headers)) {
    for (const item of typeof value === "string" ? [value] : value) headers.append(name, item);
  }
  return new Response(answer.body, { status: answer.status, headers });
}
