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
  | "invalid_configuration"
  | "invalid_dpop_proof"
  | "use_dpop_nonce";

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
 * - `dpop_invalid`: a DPoP proof is malformed or fails a check (`typ`, `alg`, `jwk`, signature,
 *   `htm`, `htu`, `iat`, `jti`, `ath`).
 * - `dpop_replayed`: the proof's `jti` was already used within the proof window.
 * - `dpop_key_mismatch`: the proof was made with another key than the session's or token's.
 * - `dpop_required`: a proof is required (bound session or token, policy `"required"`) and none came.
 * - `dpop_nonce_required`: the server demands a nonce and the proof carries none, or an old one.
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
  | "invalid_option"
  | "dpop_invalid"
  | "dpop_replayed"
  | "dpop_key_mismatch"
  | "dpop_required"
  | "dpop_nonce_required";

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

/**
 * A DPoP proof (RFC 9449) was missing, invalid, replayed or made with the wrong key:
 * `invalid_dpop_proof`. HTTP layers answer 400 at the token endpoint and 401 with
 * `WWW-Authenticate: DPoP error="invalid_dpop_proof"` at a resource.
 *
 * @example
 * ```ts
 * try {
 *   await tokens.refresh(token, { dpop: { proof: request.headers.get("dpop"), method, url } });
 * } catch (error) {
 *   if (error instanceof InvalidDpopProofError && error.reason === "dpop_key_mismatch") audit(error);
 *   throw error;
 * }
 * ```
 */
export class InvalidDpopProofError extends TokensError {
  constructor(
    reason: "dpop_invalid" | "dpop_replayed" | "dpop_key_mismatch" | "dpop_required",
    message: string,
  ) {
    super("invalid_dpop_proof", reason, message);
  }
}

/**
 * The server demands a DPoP nonce (RFC 9449 §8, §9) and the proof carried none or a stale one:
 * `use_dpop_nonce`. Send `nonce` as the `DPoP-Nonce` response header; the client retries with
 * a proof that carries it.
 *
 * @example
 * ```ts
 * if (error instanceof UseDpopNonceError) {
 *   return Response.json({ error: error.code }, { status: 400, headers: { "DPoP-Nonce": error.nonce } });
 * }
 * ```
 */
export class UseDpopNonceError extends TokensError {
  /** The nonce the next proof must carry. */
  readonly nonce: string;

  constructor(nonce: string, message: string) {
    super("use_dpop_nonce", "dpop_nonce_required", message);
    this.nonce = nonce;
  }
}
