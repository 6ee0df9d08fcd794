/**
 * The RFC 6749 / RFC 6750 error code an error maps to. Stable: HTTP layers
 * send it as the `error` field, apps may switch on it.
 */
export type TokensErrorCode =
  | "invalid_request"
  | "invalid_grant"
  | "invalid_token"
  | "unsupported_grant_type"
  | "temporarily_unavailable"
  | "invalid_configuration";

/**
 * Why exactly a token or request was refused. Stable, more specific than `code`.
 *
 * - `malformed`: not a token of ours (wrong type, length, prefix or alphabet).
 * - `not_found`: well-formed, but no store record matches.
 * - `expired`: the refresh token outlived the idle TTL, or the access token its `exp`.
 * - `session_expired`: the session passed its absolute lifetime.
 * - `revoked`: the session was revoked (logout, revoke-all, reuse, cap).
 * - `reused`: a spent refresh token was presented outside the grace case; the session is now revoked.
 * - `binding_mismatch`: the request's client context differs from the session's binding.
 * - `client_mismatch`: the request names a different `client_id` than the session's.
 * - `invalid_signature`, `invalid_claims`, `unknown_key`, `unsupported_algorithm`: access-token verification failures.
 * - `reserved_claim`: custom claims tried to set a claim tokens owns.
 * - `store_unavailable`: the store could not be reached or failed mid-operation.
 * - `invalid_option`: a configuration value is missing or out of range.
 */
export type TokensErrorReason =
  | "malformed"
  | "not_found"
  | "expired"
  | "session_expired"
  | "revoked"
  | "reused"
  | "binding_mismatch"
  | "client_mismatch"
  | "invalid_signature"
  | "invalid_claims"
  | "unknown_key"
  | "unsupported_algorithm"
  | "reserved_claim"
  | "store_unavailable"
  | "invalid_option";

/**
 * Base class of every error tokens throws on purpose. Never carries a token secret.
 *
 * @example
 * ```ts
 * try {
 *   await tokens.refresh(presented);
 * } catch (error) {
 *   if (error instanceof TokensError && error.reason === "reused") alertSecurityTeam();
 *   throw error;
 * }
 * ```
 */
export class TokensError extends Error {
  /** RFC 6749/6750 error code. */
  readonly code: TokensErrorCode;
  /** Specific, stable reason. */
  readonly reason: TokensErrorReason;

  constructor(
    code: TokensErrorCode,
    reason: TokensErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.reason = reason;
  }
}

/**
 * A refresh token (or refresh request) was refused: RFC 6749 `invalid_grant`.
 *
 * @example
 * ```ts
 * if (error instanceof InvalidGrantError && error.reason === "session_expired") redirectToLogin();
 * ```
 */
export class InvalidGrantError extends TokensError {
  constructor(reason: TokensErrorReason, message: string) {
    super("invalid_grant", reason, message);
  }
}

/**
 * The request itself is unusable (wrong type, missing field, reserved claim): RFC 6749 `invalid_request`.
 *
 * @example
 * ```ts
 * await tokens.refresh(42 as never).catch((e) => e instanceof InvalidRequestError); // true
 * ```
 */
export class InvalidRequestError extends TokensError {
  constructor(reason: TokensErrorReason, message: string) {
    super("invalid_request", reason, message);
  }
}

/**
 * An access token failed verification: RFC 6750 `invalid_token`.
 *
 * @example
 * ```ts
 * const claims = await tokens.verifyAccessToken(jwt).catch((e) => {
 *   if (e instanceof InvalidTokenError) return null;
 *   throw e;
 * });
 * ```
 */
export class InvalidTokenError extends TokensError {
  constructor(reason: TokensErrorReason, message: string) {
    super("invalid_token", reason, message);
  }
}

/**
 * The store failed (down, connection lost, timeout). The operation either fully happened or
 * not at all; retrying the same refresh token within the grace window is safe.
 * Adapters throw it (wrapping the driver error as `cause`); HTTP layers answer 503.
 *
 * @example
 * ```ts
 * try {
 *   await pool.query(sql);
 * } catch (cause) {
 *   throw new StoreUnavailableError("PostgreSQL query failed", { cause });
 * }
 * ```
 */
export class StoreUnavailableError extends TokensError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("temporarily_unavailable", "store_unavailable", message, options);
  }
}

/**
 * A configuration value is missing or invalid. Thrown at set-up, never per request.
 *
 * @example
 * ```ts
 * createTokens({ issuer: "", audience: "api", keys: [], store }); // throws ConfigurationError
 * ```
 */
export class ConfigurationError extends TokensError {
  constructor(message: string) {
    super("invalid_configuration", "invalid_option", message);
  }
}
