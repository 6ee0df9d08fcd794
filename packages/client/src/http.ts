import { TokenClientError } from "./errors.js";
import type { FetchFunction, TokenResponseBody } from "./types.js";

/** A token endpoint's answer, read completely. */
export interface EndpointAnswer {
  status: number;
  ok: boolean;
  headers: Headers;
  /** Parsed JSON body, or `undefined` when the body is empty or not JSON. */
  json: unknown;
}

/** The reason a caller's signal aborted with, as `fetch` would reject. */
export function abortReason(signal: AbortSignal): unknown {
  if (signal.reason !== undefined) return signal.reason;
  const error = new Error("This operation was aborted");
  error.name = "AbortError";
  return error;
}

/**
 * Settle with `promise`, or reject as soon as `signal` aborts. The promise itself keeps
 * running: it may be a refresh other callers share.
 */
export function abortable<T>(
  promise: Promise<T>,
  signal: AbortSignal | null | undefined,
): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Call a token endpoint and read its whole answer within `timeout` ms. Maps failures to
 * {@link TokenClientError} (`timeout`, `network_error`); a caller abort rejects with the
 * signal's reason, as `fetch` does. `AbortSignal.timeout`/`any` are not used: React Native
 * lacks them.
 */
export async function callEndpoint(
  fetchImpl: FetchFunction,
  url: URL,
  init: RequestInit,
  timeout: number,
  signal?: AbortSignal,
): Promise<EndpointAnswer> {
  if (signal?.aborted) throw abortReason(signal);
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeout);
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const response = await fetchImpl(url, { ...init, signal: controller.signal });
    const text = await response.text();
    return {
      status: response.status,
      ok: response.ok,
      headers: response.headers,
      json: parseJson(text),
    };
  } catch (cause) {
    if (timedOut) {
      throw new TokenClientError("timeout", `${url.pathname} did not answer within ${timeout} ms`, {
        cause,
      });
    }
    if (signal?.aborted) throw abortReason(signal);
    throw new TokenClientError("network_error", `${url.pathname} could not be reached`, { cause });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}

function parseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The RFC 6749 §5.2 fields of an error answer, if it has them. */
export function oauthError(answer: EndpointAnswer): { error?: string; error_description?: string } {
  if (typeof answer.json !== "object" || answer.json === null) return {};
  const body = answer.json as Record<string, unknown>;
  return {
    ...(typeof body.error === "string" ? { error: body.error } : {}),
    ...(typeof body.error_description === "string"
      ? { error_description: body.error_description }
      : {}),
  };
}

/** A refused call as an error, keeping the server's code, description and `Retry-After`. */
export function answerError(
  answer: EndpointAnswer,
  fallbackCode: string,
  what: string,
): TokenClientError {
  const { error, error_description } = oauthError(answer);
  const code = error ?? (answer.status >= 500 ? "server_error" : fallbackCode);
  const retryAfter = Number(answer.headers.get("retry-after") ?? Number.NaN);
  return new TokenClientError(
    code,
    `${what} failed: ${answer.status} ${error_description ?? code}`,
    {
      status: answer.status,
      ...(error_description === undefined ? {} : { description: error_description }),
      ...(Number.isFinite(retryAfter) ? { retryAfter } : {}),
    },
  );
}

/**
 * Validate a token response; throws `invalid_response` when it is not one. `token_type` must
 * be `Bearer`, or `DPoP` for a client that sends proofs.
 */
export function tokenResponse(json: unknown, dpop: boolean): TokenResponseBody {
  if (typeof json !== "object" || json === null) {
    throw new TokenClientError("invalid_response", "The token response is not a JSON object");
  }
  const body = json as Record<string, unknown>;
  if (typeof body.access_token !== "string" || body.access_token === "") {
    throw new TokenClientError("invalid_response", "The token response has no access_token");
  }
  const tokenType = typeof body.token_type === "string" ? body.token_type.toLowerCase() : "bearer";
  if (tokenType !== "bearer" && !(dpop && tokenType === "dpop")) {
    throw new TokenClientError("invalid_response", `Unsupported token_type ${body.token_type}`);
  }
  if (
    body.expires_in !== undefined &&
    (typeof body.expires_in !== "number" ||
      !Number.isFinite(body.expires_in) ||
      body.expires_in < 0)
  ) {
    throw new TokenClientError("invalid_response", "The token response has an invalid expires_in");
  }
  if (body.refresh_token !== undefined && typeof body.refresh_token !== "string") {
    throw new TokenClientError(
      "invalid_response",
      "The token response has an invalid refresh_token",
    );
  }
  return body as TokenResponseBody;
}

/**
 * RFC 6750 §3 (RFC 9449 §7.1 for DPoP): the server says the presented access token is expired,
 * revoked or otherwise invalid.
 */
export function isInvalidTokenChallenge(response: Response): boolean {
  return challenges(response, /(^|[\s,])(bearer|dpop)\b/i, "invalid_token");
}

/** RFC 9449 §9: a resource server wants a proof with the nonce its `DPoP-Nonce` header names. */
export function isNonceChallenge(response: Response): boolean {
  return challenges(response, /(^|[\s,])dpop\b/i, "use_dpop_nonce");
}

function challenges(response: Response, scheme: RegExp, error: string): boolean {
  if (response.status !== 401) return false;
  const challenge = response.headers.get("www-authenticate");
  if (!challenge) return false;
  return scheme.test(challenge) && new RegExp(`\\berror\\s*=\\s*"?${error}"?`, "i").test(challenge);
}
