import type { JWK } from "jose";
import type { ClientContext, SessionRecord, TokenStore } from "./store.js";

/** Signature algorithms tokens signs access tokens with. */
export type SigningAlgorithm = "EdDSA" | "ES256" | "RS256" | "HS256";

/** A private (or, for HS256, secret) JWK with the `kid` and `alg` it is used under. */
export type SigningKey = JWK & { kid: string; alg: SigningAlgorithm };

/**
 * How one client-context field is compared on refresh.
 * - `"off"`: never compared.
 * - `"exact"`: must equal the value recorded at issue (if one was recorded).
 * - `{ prefix: { v4, v6 } }` (IP only): the same network, e.g. `{ v4: 24, v6: 64 }`.
 */
export type BindingFieldPolicy = "off" | "exact";

/** The IP binding policy: off, exact, or same network prefix. */
export type IpBindingPolicy = BindingFieldPolicy | { prefix: { v4: number; v6: number } };

/** Which parts of the client context a session is bound to, and what a mismatch does. */
export interface BindingPolicy {
  /** Default `"exact"`: a session issued to a device id refreshes only from it. */
  deviceId?: BindingFieldPolicy;
  /** Default `"off"`: browsers change their user agent on every update. */
  userAgent?: BindingFieldPolicy;
  /** Default `"off"`: mobile clients change networks all the time. */
  ip?: IpBindingPolicy;
  /** `"reject"` (default) refuses the request; `"revoke"` also revokes the session. */
  onMismatch?: "reject" | "revoke";
}

/**
 * Whether DPoP (RFC 9449) is used for a client's sessions:
 * - `"off"`: `DPoP` headers are ignored; tokens are Bearer tokens.
 * - `"allowed"`: a session issued with a valid proof is bound to its key; without one, Bearer.
 * - `"required"`: issue refuses a request without a valid proof (public clients made to use it).
 *
 * @example
 * ```ts
 * const dpop: DpopConfig = { policy: "allowed", clients: { spa: "required", legacy: "off" } };
 * ```
 */
export type DpopPolicy = "off" | "allowed" | "required";

/**
 * The asymmetric JWS algorithms a DPoP proof may be signed with (`none` and HS* never are).
 *
 * @example
 * ```ts
 * const dpop: DpopConfig = { algorithms: ["ES256", "EdDSA"] };
 * ```
 */
export type DpopAlgorithm =
  | "EdDSA"
  | "ES256"
  | "ES384"
  | "ES512"
  | "PS256"
  | "PS384"
  | "PS512"
  | "RS256"
  | "RS384"
  | "RS512";

/**
 * DPoP (RFC 9449): sessions bound to a key pair the client holds. Durations are in seconds.
 *
 * @example
 * ```ts
 * const tokens = createTokens({
 *   issuer, audience, keys, store,
 *   dpop: { policy: "allowed", clients: { spa: "required" }, requireNonce: true },
 * });
 * ```
 */
export interface DpopConfig {
  /** Policy for clients not listed in `clients`. Default `"allowed"`. */
  policy?: DpopPolicy;
  /** Policy per `client_id`, e.g. `{ spa: "required" }`. */
  clients?: Record<string, DpopPolicy>;
  /**
   * Algorithms accepted in proofs: asymmetric only (`none` and `HS*` are refused as
   * configuration). Default `["ES256", "EdDSA", "ES384", "PS256", "RS256"]`.
   */
  algorithms?: DpopAlgorithm[];
  /** How long a proof is accepted after its `iat` (plus `clockTolerance` either side). Default 60. */
  proofMaxAge?: number;
  /** Demand a server nonce in every proof (RFC 9449 §8, §9). Default `false`. */
  requireNonce?: boolean;
  /** How long one nonce is current; the previous one is still accepted. Default 300. */
  nonceLifetime?: number;
  /**
   * How many proof `jti` values one instance remembers to refuse replays (the bound of the
   * replay cache; beyond it the oldest are forgotten first). Default 100 000.
   */
  replayCacheSize?: number;
}

/**
 * The DPoP parts of an HTTP request, as the HTTP layer saw them.
 *
 * @example
 * ```ts
 * const dpop: DpopRequest = {
 *   proof: request.headers.get("dpop"),
 *   method: request.method,
 *   url: "https://auth.example.com/auth/token",
 * };
 * ```
 */
export interface DpopRequest {
  /** The request's `DPoP` header value; `undefined`/`null` when absent. */
  proof: string | null | undefined;
  /** The HTTP method, e.g. `"POST"`. */
  method: string;
  /** The request's absolute URL as the client addressed it; query and fragment are ignored. */
  url: string;
}

/** Events for audit logs and alerting. Never contain a token or secret. */
export type TokensEvent =
  | { type: "session_created"; at: Date; sessionId: string; subject: string; clientId: string }
  | { type: "token_rotated"; at: Date; sessionId: string; subject: string; generation: number }
  | { type: "grace_replay"; at: Date; sessionId: string; subject: string; generation: number }
  | {
      type: "reuse_detected";
      at: Date;
      sessionId: string;
      subject: string;
      /** Generation of the presented (spent) token. */
      presentedGeneration: number;
      /** Generation of the live token at detection. */
      liveGeneration: number;
      client: ClientContext | null;
    }
  | {
      type: "binding_mismatch";
      at: Date;
      sessionId: string;
      subject: string;
      fields: Array<keyof ClientContext>;
      client: ClientContext | null;
      revoked: boolean;
    }
  | { type: "session_revoked"; at: Date; sessionId: string; subject: string; reason: string }
  | { type: "subject_revoked"; at: Date; subject: string; reason: string; count: number };

/** Configuration of {@link createTokens}. Durations are in seconds. */
export interface TokensConfig {
  /** The `iss` of access tokens, e.g. `https://auth.example.com`. */
  issuer: string;
  /** The `aud` of access tokens (one or several resource servers). */
  audience: string | string[];
  /** Signing keys. The first (or `activeKeyId`) signs; all of them verify. */
  keys: SigningKey[];
  /** `kid` of the key that signs new access tokens. Default: the first key's. */
  activeKeyId?: string;
  /** Where sessions and tokens live. */
  store: TokenStore;
  /** Access-token lifetime. Default 900 (15 min). */
  accessTokenTtl?: number;
  /** Refresh-token idle lifetime: a session unused this long ends. Default 604 800 (7 days). */
  refreshIdleTtl?: number;
  /** Absolute session lifetime, however active. Default 2 592 000 (30 days). */
  sessionMaxAge?: number;
  /**
   * How long the immediate predecessor of the live refresh token keeps answering with the same
   * successor (concurrent tabs, lost responses). Default 10; 0 = strict, at most 300.
   */
  reuseGrace?: number;
  /** Leeway for `exp`/`nbf`/`iat` when verifying access tokens. Default 5. */
  clockTolerance?: number;
  /** Client binding policy. */
  binding?: BindingPolicy;
  /** Cap on live sessions per subject; the oldest are revoked first. Default: no cap. */
  maxSessionsPerSubject?: number;
  /** The `client_id` claim when issue names none. Default `"default"`. */
  defaultClientId?: string;
  /** Ended sessions are purged this long after they end. Default 86 400 (1 day). */
  purgeRetention?: number;
  /** Current time in epoch milliseconds. Default `Date.now`. */
  now?: () => number;
  /** Called for every event; may be async. Errors it throws are swallowed. */
  onEvent?: (event: TokensEvent) => void | Promise<void>;
  /** DPoP (RFC 9449) settings. Default: allowed for every client, no nonce. */
  dpop?: DpopConfig;
}

/** What the app passes to {@link Tokens.issue} once it has authenticated the user. */
export interface IssueOptions {
  /** The user id: the `sub` claim. */
  subject: string;
  /** The `client_id` claim. Default: `defaultClientId`. */
  clientId?: string;
  /** Client context to record and bind to. */
  client?: ClientContext;
  /** App claims for every access token of this session. Reserved claims may not be set. */
  claims?: Record<string, unknown>;
  /** The request's DPoP proof: with a valid one (and a policy other than `"off"`) the session is bound to its key. */
  dpop?: DpopRequest;
  /** The DPoP policy for this call, instead of the client's. */
  dpopPolicy?: DpopPolicy;
}

/** Options of {@link Tokens.refresh}. */
export interface RefreshOptions {
  /** The refreshing client's context, compared with the session's binding. */
  client?: ClientContext;
  /** The `client_id` the request named, if any: must equal the session's. */
  clientId?: string;
  /** The request's DPoP proof: required, with the session's key, for a bound session. */
  dpop?: DpopRequest;
}

/** Public view of a session: what a devices page or a cookie needs. */
export interface SessionInfo {
  id: string;
  subject: string;
  clientId: string;
  createdAt: Date;
  lastUsedAt: Date;
  /** The refresh token returned with this session info dies at this instant unless used. */
  idleExpiresAt: Date;
  expiresAt: Date;
  client: ClientContext | null;
}

/** The token pair: RFC 6749 §5.1 fields, plus the session. */
export interface TokenResponse {
  access_token: string;
  /** `"DPoP"` when the access token is bound to a key (carries `cnf.jkt`). */
  token_type: "Bearer" | "DPoP";
  /** Access-token lifetime in seconds. */
  expires_in: number;
  refresh_token: string;
  session: SessionInfo;
}

/** Claims of a verified access token (RFC 9068 plus `sid` and the app's claims). */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  jti: string;
  client_id: string;
  sid: string;
  /** RFC 9449 §6: the thumbprint of the DPoP key the token is bound to. */
  cnf?: { jkt: string };
  [claim: string]: unknown;
}

/** Options of {@link Tokens.verifyAccessToken}. */
export interface VerifyOptions {
  /**
   * Also ask the store whether the token's session is still live (revoked sessions, revoked
   * subjects). Costs one store read. Default `false`: stateless.
   */
  checkSession?: boolean;
  /** Accept only this audience (must be one of the configured ones). Default: any configured. */
  audience?: string;
  /**
   * The request's DPoP parts and the `Authorization` scheme it used. A bound token (`cnf.jkt`)
   * needs the `DPoP` scheme and a proof made with its key, carrying its `ath`; an unbound one
   * is refused under the `DPoP` scheme.
   */
  dpop?: DpopRequest & { scheme: "Bearer" | "DPoP" };
}

/** The public JWK set. */
export interface JsonWebKeySet {
  keys: JWK[];
}

/** A tokens instance: every operation, bound to one configuration and store. */
export interface Tokens {
  /** Start a session for an authenticated subject and return its first pair. */
  issue(options: IssueOptions): Promise<TokenResponse>;
  /** Spend a refresh token for a new pair (rotation, grace, reuse detection). */
  refresh(refreshToken: unknown, options?: RefreshOptions): Promise<TokenResponse>;
  /** RFC 7009: revoke the session of a refresh token; unknown or malformed tokens are ignored. */
  revoke(refreshToken: unknown): Promise<void>;
  /** Revoke one session (logout). Resolves `true` if this call revoked it. */
  revokeSession(sessionId: string, reason?: string): Promise<boolean>;
  /** Revoke all sessions of a subject (password change, deactivation). Resolves the count. */
  revokeSubject(subject: string, reason?: string): Promise<number>;
  /** The subject's live sessions, oldest first. */
  listSessions(subject: string): Promise<SessionInfo[]>;
  /** Verify an access token; throws {@link InvalidTokenError}. */
  verifyAccessToken(token: unknown, options?: VerifyOptions): Promise<AccessTokenClaims>;
  /** The public keys (never private or symmetric ones). */
  jwks(): Promise<JsonWebKeySet>;
  /** Delete ended sessions in batches; resolves how many were deleted. */
  purge(options?: { batchSize?: number }): Promise<number>;
  /**
   * The current DPoP nonce, for a `DPoP-Nonce` response header; only meaningful with
   * `dpop.requireNonce`. Stateless: every instance with the same signing keys makes the same.
   *
   * @example
   * ```ts
   * response.headers.set("DPoP-Nonce", tokens.dpopNonce());
   * ```
   */
  dpopNonce(): string;
  /** The resolved configuration (durations in seconds). */
  readonly config: ResolvedConfig;
}

/** {@link TokensConfig} with every default applied. */
export interface ResolvedConfig {
  issuer: string;
  audience: string[];
  accessTokenTtl: number;
  refreshIdleTtl: number;
  sessionMaxAge: number;
  reuseGrace: number;
  clockTolerance: number;
  binding: Required<BindingPolicy>;
  maxSessionsPerSubject: number;
  defaultClientId: string;
  purgeRetention: number;
  dpop: Required<DpopConfig>;
}

export type { SessionRecord };
