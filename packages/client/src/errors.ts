/**
 * What went wrong, as a stable string apps may switch on.
 *
 * - RFC 6749 §5.2 codes the token endpoint answered with (`temporarily_unavailable`,
 *   `invalid_request`, `invalid_client`, …), passed through unchanged.
 * - `server_error`: the endpoint answered 5xx without an RFC 6749 error body.
 * - `network_error`: the request never got an answer (offline, DNS, connection reset).
 * - `timeout`: no answer within the client's `timeout`.
 * - `invalid_response`: the answer was not a token response (wrong JSON, missing fields).
 * - `storage_error`: the refresh-token storage failed to read or write.
 * - `invalid_configuration`: an option of {@link createTokenClient} is unusable.
 * - `login_failed`: the login endpoint refused without an RFC 6749 error body.
 *
 * `invalid_grant` never appears here: it ends the session (`sessionEnded` event) instead.
 *
 * @example
 * ```ts
 * client.on("refreshFailed", (error) => {
 *   const code: TokenClientErrorCode = error.code;
 *   if (code === "network_error") showOfflineBanner();
 * });
 * ```
 */
export type TokenClientErrorCode =
  | "temporarily_unavailable"
  | "server_error"
  | "invalid_request"
  | "invalid_client"
  | "unauthorized_client"
  | "unsupported_grant_type"
  | "network_error"
  | "timeout"
  | "invalid_response"
  | "storage_error"
  | "invalid_configuration"
  | "login_failed"
  | (string & {});

/**
 * Details of a {@link TokenClientError}.
 *
 * @example
 * ```ts
 * const details: TokenClientErrorDetails = { status: 503, retryAfter: 5 };
 * throw new TokenClientError("temporarily_unavailable", "Try again later", details);
 * ```
 */
export interface TokenClientErrorDetails {
  /** HTTP status of the endpoint's answer, if there was one. */
  status?: number;
  /** The server's `error_description`, if it sent one. */
  description?: string;
  /** Seconds from the `Retry-After` header, if the server sent one. */
  retryAfter?: number;
  /** The underlying error (network failure, storage exception). */
  cause?: unknown;
}

const retryableCodes = new Set([
  "temporarily_unavailable",
  "server_error",
  "network_error",
  "timeout",
]);

/**
 * A token endpoint call failed without ending the session: the server is unavailable, the
 * network is down, the answer was malformed, or the client is misconfigured. The session
 * (refresh token) is still there; `retryable` says whether trying again later can help.
 *
 * @example
 * ```ts
 * try {
 *   const response = await client.fetch("/api/me");
 * } catch (error) {
 *   if (error instanceof TokenClientError && error.retryable) showOfflineBanner();
 *   else throw error;
 * }
 * ```
 */
export class TokenClientError extends Error {
  /** Stable code: the server's RFC 6749 `error`, or one of the client's own. */
  readonly code: TokenClientErrorCode;
  /** HTTP status of the answer, if any. */
  readonly status: number | undefined;
  /** The server's `error_description`, if any. */
  readonly description: string | undefined;
  /** Seconds the server asked to wait (`Retry-After`), if any. */
  readonly retryAfter: number | undefined;
  /** Whether the same call may succeed later (server or network trouble, not a refusal). */
  readonly retryable: boolean;

  constructor(code: TokenClientErrorCode, message: string, details: TokenClientErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "TokenClientError";
    this.code = code;
    this.status = details.status;
    this.description = details.description;
    this.retryAfter = details.retryAfter;
    this.retryable =
      retryableCodes.has(code) || (details.status !== undefined && details.status >= 500);
  }
}
