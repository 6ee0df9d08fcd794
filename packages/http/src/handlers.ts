import {
  type AccessTokenClaims,
  type ClientContext,
  ConfigurationError,
  type DpopRequest,
  InvalidDpopProofError,
  InvalidGrantError,
  type IssueOptions,
  StoreUnavailableError,
  type TokenResponse,
  type Tokens,
  TokensError,
  UseDpopNonceError,
} from "@tokens/core";
import { type AuthScheme, bearerChallenge, type Challenge, readBearer } from "./bearer.js";
import { type Incoming, type Params, readParams, WebIncoming } from "./body.js";
import { type CookieJar, type CookieOptions, createCookieJar } from "./cookie.js";
import { acceptedProofAlgorithms } from "./dpop.js";
import { nodeIncoming, toNodeHeaders } from "./node.js";
import {
  type Answer,
  HttpFailure,
  JSON_CONTENT,
  json,
  methodNotAllowed,
  NO_STORE,
  oauthError,
  serverError,
  tokensErrorResponse,
  toResponse,
  withCookie,
} from "./responses.js";

/**
 * What a binding knows about a request that a web `Request` cannot carry.
 *
 * @example
 * ```ts
 * // Express: req.ip honours the app's "trust proxy" setting.
 * await handlers.route(request, { ip: req.ip });
 * ```
 */
export interface RequestContext {
  /** The client's IP address as the server sees it. */
  ip?: string;
}

/**
 * Where refresh tokens travel in a token answer: `"body"` (JSON, native apps and servers) or
 * `"cookie"` (an `HttpOnly` cookie, browsers).
 *
 * @example
 * ```ts
 * const transport: Transport = "cookie";
 * ```
 */
export type Transport = "body" | "cookie";

/**
 * Paths of the endpoints, absolute from the origin root.
 *
 * @example
 * ```ts
 * const paths: EndpointPaths = {
 *   refresh: "/auth/token/refresh",
 *   revoke: "/auth/token/revoke",
 *   jwks: "/.well-known/jwks.json",
 *   metadata: "/.well-known/oauth-authorization-server",
 * };
 * ```
 */
export interface EndpointPaths {
  /** Refresh grant (RFC 6749 §6). Default `<basePath>/token/refresh`. */
  refresh: string;
  /** Revocation (RFC 7009). Default `<basePath>/token/revoke`. */
  revoke: string;
  /** Public keys (RFC 7517). Default `/.well-known/jwks.json`. */
  jwks: string;
  /**
   * Authorization server metadata (RFC 8414). Default `/.well-known/oauth-authorization-server`
   * followed by the issuer's path, as RFC 8414 §3.1 places it.
   */
  metadata: string;
}

/**
 * Options of {@link createHandlers}.
 *
 * @example
 * ```ts
 * const options: HandlersOptions = {
 *   basePath: "/auth",
 *   cookie: { allowedOrigins: ["https://app.example.com"] },
 *   getClientIp: (request) => request.headers.get("cf-connecting-ip") ?? undefined,
 * };
 * ```
 */
export interface HandlersOptions {
  /**
   * Path the auth endpoints live under; also the refresh cookie's `Path` unless `cookie.path`
   * narrows it. Default `/auth`.
   */
  basePath?: string;
  /** Override single endpoint paths (absolute from the origin root). */
  paths?: Partial<EndpointPaths>;
  /**
   * Public origin (or URL) the endpoints are reached at, for the metadata document. Default: the
   * issuer's origin. When set, DPoP proofs (RFC 9449 §4.3 `htu`) are checked against this
   * origin and the request's path, which is what a server behind a proxy needs; when unset,
   * against the request's own URL.
   */
  baseUrl?: string;
  /** Enable cookie mode for browsers (`true` for the defaults). Default off. */
  cookie?: CookieOptions | boolean;
  /** Largest accepted request body in bytes; bigger bodies get a 413. Default 16 384. */
  maxBodyBytes?: number;
  /**
   * The client's IP address for session binding and the devices list. A web `Request` has no
   * socket, so by default the IP comes only from the binding ({@link RequestContext}). Trust a
   * forwarding header such as `X-Forwarded-For` here only behind a proxy that sets it: any
   * client can send one.
   */
  getClientIp?: (request: Request) => string | undefined;
  /** Header carrying the app's device id. Default `Token-Device-Id`. */
  deviceIdHeader?: string;
  /** `max-age` of the JWKS and metadata answers, in seconds. Default 300. */
  cacheMaxAge?: number;
  /** `Retry-After` of a 503 when the store is unavailable, in seconds. Default 5. */
  retryAfter?: number;
  /** Default of {@link AuthenticateOptions.checkSession}. Default `false`. */
  checkSession?: boolean;
  /** Extra RFC 8414 metadata fields (e.g. `service_documentation`). */
  metadata?: Record<string, unknown>;
  /**
   * Called with every unexpected error answered with a 500. A client that disconnects before its
   * request body arrives is not one: it is not reported. Default `console.error`.
   */
  onError?: (error: unknown) => void;
}

/**
 * What {@link TokenHandlers.authenticate} reads of a request: a web `Request` has it all. The
 * method and URL are what a DPoP proof is checked against.
 *
 * @example
 * ```ts
 * const request: AuthenticatedRequest = new Request("https://api.example.com/me");
 * ```
 */
export type AuthenticatedRequest = Pick<Request, "headers" | "method" | "url">;

/**
 * Options of {@link TokenHandlers.authenticate}.
 *
 * @example
 * ```ts
 * await handlers.authenticate(request, { checkSession: true, audience: "https://api.example.com" });
 * ```
 */
export interface AuthenticateOptions {
  /** Also reject tokens whose session was revoked (one store read). */
  checkSession?: boolean;
  /** Accept only this audience. */
  audience?: string;
}

/**
 * Outcome of {@link TokenHandlers.authenticate}: the verified claims, or the answer to send.
 *
 * @example
 * ```ts
 * const result: AuthResult = await handlers.authenticate(request);
 * if (!result.ok) return result.response;
 * console.log(result.claims.sub);
 * ```
 */
export type AuthResult =
  | { ok: true; claims: AccessTokenClaims }
  | { ok: false; response: Response; error?: TokensError };

/**
 * Options of {@link TokenHandlers.issue}: core's issue options plus the transport.
 *
 * @example
 * ```ts
 * const options: IssueRequestOptions = { subject: user.id, transport: "cookie" };
 * ```
 */
export interface IssueRequestOptions extends IssueOptions {
  /** Where the refresh token goes. Default: the `Token-Transport` request header, else `"body"`. */
  transport?: Transport;
}

/**
 * One endpoint: a path and the function answering every method on it (with 405 for the wrong
 * ones), so a binding only has to register the path.
 *
 * @example
 * ```ts
 * for (const endpoint of handlers.endpoints) router.all(endpoint.path, adapt(endpoint.handle));
 * ```
 */
export interface Endpoint {
  readonly path: string;
  readonly methods: readonly string[];
  handle(request: Request, context?: RequestContext): Promise<Response>;
}

/**
 * The HTTP surface of a tokens instance, as web-standard `(Request) => Promise<Response>`
 * functions. Create it with {@link createHandlers}.
 *
 * @example
 * ```ts
 * Deno.serve(async (request) => (await handlers.route(request)) ?? new Response(null, { status: 404 }));
 * ```
 */
export interface TokenHandlers {
  /** The tokens instance the handlers serve. */
  readonly tokens: Tokens;
  /** The endpoint paths. */
  readonly paths: Readonly<EndpointPaths>;
  /** The endpoints, for bindings to register. */
  readonly endpoints: readonly Endpoint[];
  /** The refresh cookie's name and path, or `undefined` when cookie mode is off. */
  readonly cookie: { readonly name: string; readonly path: string } | undefined;
  /** `POST` refresh grant (RFC 6749 §6; JSON body or cookie too). */
  refresh(request: Request, context?: RequestContext): Promise<Response>;
  /** `POST` revocation (RFC 7009); in cookie mode, logout. */
  revoke(request: Request, context?: RequestContext): Promise<Response>;
  /** `GET` the public JWK set. */
  jwks(request: Request): Promise<Response>;
  /** `GET` RFC 8414 authorization server metadata. */
  metadata(request: Request): Promise<Response>;
  /** The endpoint serving `pathname`, if any. */
  match(pathname: string): Endpoint | undefined;
  /** Answer a request for one of the endpoints, or `undefined` if its path is not one. */
  route(request: Request, context?: RequestContext): Promise<Response | undefined>;
  /**
   * Verify the request's access token: `Authorization: Bearer` (RFC 6750), or `Authorization:
   * DPoP` with a `DPoP` proof of the key the token is bound to (RFC 9449 §7).
   */
  authenticate(request: AuthenticatedRequest, options?: AuthenticateOptions): Promise<AuthResult>;
  /** Start a session for an authenticated user (your login route) and answer with its tokens. */
  issue(
    request: Request,
    options: IssueRequestOptions,
    context?: RequestContext,
  ): Promise<Response>;
  /**
   * The request's DPoP proof, method and public URL as core takes them, for an app that calls
   * `tokens.issue` itself before {@link TokenHandlers.issueResponse}.
   */
  dpopRequest(request: AuthenticatedRequest): DpopRequest;
  /** Answer with an already issued pair, honouring the request's `Token-Transport` header. */
  issueResponse(request: { headers: Headers }, pair: TokenResponse): Response;
  /** A JSON answer (204 when `body` is omitted) that also deletes the refresh cookie. */
  logoutResponse(body?: unknown, init?: ResponseInit): Response;
  /** The client context (user agent, device id, IP) of a request. */
  clientContext(request: Request, context?: RequestContext): ClientContext;
}

/** Request header a login call uses to ask for cookie mode. */
export const TRANSPORT_HEADER = "Token-Transport";

const POST_METHODS = ["POST", "OPTIONS"] as const;
const GET_METHODS = ["GET", "HEAD", "OPTIONS"] as const;
const PLAIN_PATH = /^(\/[A-Za-z0-9._~-]+)+$|^\/$/;
const TRANSPORT = TRANSPORT_HEADER.toLowerCase();

function checkPath(label: string, path: string): string {
  if (!PLAIN_PATH.test(path)) {
    throw new ConfigurationError(
      `${label} must be an absolute path of letters, digits and ._~- segments, without a trailing slash: ${path}`,
    );
  }
  return path;
}

function parseUrl(label: string, value: string): URL {
  try {
    return new URL(value);
  } catch {
    throw new ConfigurationError(`${label} is not a valid URL: ${value}`);
  }
}

function positive(label: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ConfigurationError(`${label} must be a non-negative integer`);
  }
  return value;
}

function resolvePaths(options: HandlersOptions, base: string, issuer: URL): EndpointPaths {
  const prefix = base === "/" ? "" : base;
  const issuerPath = issuer.pathname.replace(/\/+$/, "");
  const paths: EndpointPaths = {
    refresh: `${prefix}/token/refresh`,
    revoke: `${prefix}/token/revoke`,
    jwks: "/.well-known/jwks.json",
    metadata: `/.well-known/oauth-authorization-server${issuerPath}`,
    ...options.paths,
  };
  for (const [name, path] of Object.entries(paths)) checkPath(`paths.${name}`, path);
  if (new Set(Object.values(paths)).size !== 4) {
    throw new ConfigurationError("Endpoint paths must be distinct");
  }
  return paths;
}

function truncate(value: string | undefined, max: number): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === "" ? undefined : trimmed.slice(0, max);
}

/**
 * The challenge a protected resource answers a refused token with (RFC 6750 §3.1, RFC 9449
 * §7.1), or `undefined` for an error that is not about the credentials.
 */
function resourceChallenge(error: TokensError, scheme: AuthScheme): Challenge | undefined {
  const description = error.message;
  switch (error.code) {
    case "invalid_token":
      // A DPoP-bound token sent as a bearer token: tell the client which scheme it needs.
      return {
        scheme: error.reason === "dpop_required" ? "DPoP" : scheme,
        error: error.code,
        description,
      };
    case "invalid_dpop_proof":
      return { scheme: "DPoP", error: error.code, description };
    case "use_dpop_nonce": {
      const nonce = error instanceof UseDpopNonceError ? error.nonce : undefined;
      return { scheme: "DPoP", error: error.code, description, nonce };
    }
    default:
      return undefined;
  }
}

function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

/** How the handlers read a request: directly when `toWebRequest` made it, else as a web Request. */
function incomingOf(request: Request): Incoming {
  return nodeIncoming(request) ?? new WebIncoming(request);
}

/** The same for anything with `headers` (`authenticate` reads no body). */
function headersOf(request: { headers: Headers }): Pick<Incoming, "header" | "respond" | "path"> {
  return (
    nodeIncoming(request) ?? {
      header: (name) => request.headers.get(name) ?? undefined,
      respond: toResponse,
    }
  );
}

/**
 * Creates the HTTP handlers for a tokens instance: refresh, revocation, JWKS and metadata
 * endpoints, bearer authentication and the login answer. Web-standard only (`Request` →
 * `Response`), so they run on Node, Bun, Deno and edge runtimes; the framework bindings wrap
 * them. Throws `ConfigurationError` for invalid options.
 *
 * @example
 * ```ts
 * import { createHandlers } from "@tokens/http";
 *
 * const handlers = createHandlers(tokens, { basePath: "/auth", cookie: true });
 *
 * export default {
 *   async fetch(request: Request) {
 *     const url = new URL(request.url);
 *     if (url.pathname === "/auth/login" && request.method === "POST") {
 *       const user = await checkPassword(await request.json());
 *       if (!user) return new Response(null, { status: 401 });
 *       return handlers.issue(request, { subject: user.id });
 *     }
 *     return (await handlers.route(request)) ?? new Response("Not found", { status: 404 });
 *   },
 * };
 * ```
 */
export function createHandlers(tokens: Tokens, options: HandlersOptions = {}): TokenHandlers {
  const issuer = parseUrl("issuer", tokens.config.issuer);
  const baseUrl = options.baseUrl === undefined ? issuer : parseUrl("baseUrl", options.baseUrl);
  const basePath = checkPath("basePath", options.basePath ?? "/auth");
  const paths = resolvePaths(options, basePath, issuer);
  const limit = positive("maxBodyBytes", options.maxBodyBytes, 16_384);
  const cacheMaxAge = positive("cacheMaxAge", options.cacheMaxAge, 300);
  const retryAfter = positive("retryAfter", options.retryAfter, 5);
  const deviceIdHeader = (options.deviceIdHeader ?? "Token-Device-Id").toLowerCase();
  const onError =
    options.onError ??
    ((error: unknown) => console.error("tokens: unexpected error in an HTTP handler", error));
  const cookieOptions = options.cookie === true ? {} : options.cookie || undefined;
  const jar: CookieJar | undefined =
    cookieOptions === undefined
      ? undefined
      : createCookieJar(
          cookieOptions,
          checkPath("cookie.path", cookieOptions.path ?? basePath),
          issuer,
          baseUrl.origin,
        );
  if (jar !== undefined) {
    for (const path of [paths.refresh, paths.revoke]) {
      if (!(jar.path === "/" || path === jar.path || path.startsWith(`${jar.path}/`))) {
        throw new ConfigurationError(`${path} is outside the cookie path ${jar.path}`);
      }
    }
  }

  const absolute = (path: string) => new URL(path, baseUrl).href;
  const proofAlgorithms = acceptedProofAlgorithms(tokens.config);
  const requireNonce = tokens.config.dpop.requireNonce;
  const metadataDocument = {
    issuer: tokens.config.issuer,
    token_endpoint: absolute(paths.refresh),
    revocation_endpoint: absolute(paths.revoke),
    jwks_uri: absolute(paths.jwks),
    grant_types_supported: ["refresh_token"],
    // RFC 8414 requires the field; there is no authorization endpoint, so no response types.
    response_types_supported: [],
    token_endpoint_auth_methods_supported: ["none"],
    revocation_endpoint_auth_methods_supported: ["none"],
    ...(proofAlgorithms === undefined
      ? {}
      : { dpop_signing_alg_values_supported: proofAlgorithms }),
    ...options.metadata,
  };

  // The document never changes: serialise it once.
  const metadataJson = JSON.stringify(metadataDocument);

  /**
   * Runs a handler body; only a real server fault becomes a (generic) 500. A client that left
   * mid-upload is not one: it gets an answer nobody reads, and nothing is reported.
   */
  async function guard(body: () => Promise<Answer>): Promise<Answer> {
    try {
      return await body();
    } catch (error) {
      const answer = tokensErrorResponse(error, retryAfter);
      if (answer !== undefined) return answer;
      onError(error);
      return serverError();
    }
  }

  function contextOf(incoming: Incoming, context?: RequestContext): ClientContext {
    const client: ClientContext = {};
    const userAgent = truncate(incoming.header("user-agent"), 512);
    const deviceId = truncate(incoming.header(deviceIdHeader), 256);
    const ip = options.getClientIp?.(incoming.request()) ?? context?.ip;
    if (userAgent !== undefined) client.userAgent = userAgent;
    if (deviceId !== undefined) client.deviceId = deviceId;
    if (ip !== undefined && ip !== "") client.ip = ip;
    return client;
  }

  /**
   * What core checks a DPoP proof against (RFC 9449 §4.3): the `DPoP` header (core refuses
   * several), the method, and the URL the client addressed, `baseUrl`'s origin when set.
   */
  function dpopOf(
    view: Pick<Incoming, "header" | "path">,
    request: { method: string; url: string },
  ): DpopRequest {
    const url =
      options.baseUrl === undefined
        ? request.url
        : `${baseUrl.origin}${view.path ?? new URL(request.url).pathname}`;
    return { proof: view.header("dpop"), method: request.method, url };
  }

  function tokenAnswer(pair: TokenResponse, transport: Transport): Answer {
    // Built literally rather than through json(): this is the answer the endpoints exist for.
    const headers: Record<string, string | string[]> = {
      ...NO_STORE,
      ...JSON_CONTENT,
    };
    // RFC 9449 §8.2: each token answer hands the client the nonce for its next proof.
    if (requireNonce) headers["dpop-nonce"] = tokens.dpopNonce();
    if (transport === "cookie" && jar !== undefined) {
      // Never in the body in cookie mode: page scripts must not be able to read it.
      headers["set-cookie"] = [jar.set(pair.refresh_token, pair.session.idleExpiresAt)];
      const body = JSON.stringify({
        access_token: pair.access_token,
        token_type: pair.token_type,
        expires_in: pair.expires_in,
      });
      return { status: 200, headers, body };
    }
    const body = JSON.stringify({
      access_token: pair.access_token,
      token_type: pair.token_type,
      expires_in: pair.expires_in,
      refresh_token: pair.refresh_token,
    });
    return { status: 200, headers, body };
  }

  /** The request's transport header: a transport, or `null` when the value is not one. */
  function requestedTransport(request: Pick<Incoming, "header">): Transport | null {
    const value = request.header(TRANSPORT)?.trim().toLowerCase();
    if (value === undefined || value === "" || value === "body") return "body";
    return value === "cookie" ? "cookie" : null;
  }

  /** The refresh token a POST names, or the cookie's (then CSRF-checked). */
  function presentedToken(
    incoming: Incoming,
    params: Params,
    field: string,
  ): { token: string; viaCookie: boolean } {
    const fromBody = params.get(field);
    if (fromBody !== undefined) return { token: fromBody, viaCookie: false };
    const fromCookie = jar?.read(incoming);
    if (fromCookie === undefined || jar === undefined) {
      throw new HttpFailure(oauthError(400, "invalid_request", `Parameter ${field} is required`));
    }
    const refused = jar.checkCsrf(incoming);
    if (refused !== undefined) throw new HttpFailure(refused);
    return { token: fromCookie, viaCookie: true };
  }

  function withClearedCookie(answer: Answer): Answer {
    return jar === undefined ? answer : withCookie(answer, jar.clear());
  }

  async function refresh(incoming: Incoming, context?: RequestContext): Promise<Answer> {
    return guard(async () => {
      if (incoming.method !== "POST") return methodNotAllowed(POST_METHODS);
      const params = await readParams(incoming, limit);
      const grantType = params.get("grant_type");
      if (grantType === undefined && params.kind === "form") {
        return oauthError(400, "invalid_request", "Parameter grant_type is required");
      }
      if (grantType !== undefined && grantType !== "refresh_token") {
        return oauthError(
          400,
          "unsupported_grant_type",
          "Only the refresh_token grant is supported",
        );
      }
      const clientId = params.get("client_id");
      const { token, viaCookie } = presentedToken(incoming, params, "refresh_token");
      try {
        const pair = await tokens.refresh(token, {
          client: contextOf(incoming, context),
          dpop: dpopOf(incoming, incoming.request()),
          ...(clientId === undefined ? {} : { clientId }),
        });
        return tokenAnswer(pair, viaCookie ? "cookie" : "body");
      } catch (error) {
        // A refused cookie is dead (or unusable from this client): drop it from the browser.
        if (viaCookie && error instanceof InvalidGrantError) {
          return withClearedCookie(oauthError(400, error.code, error.message));
        }
        throw error;
      }
    });
  }

  /**
   * The claims of an access token to revoke, `undefined` when it is not a valid one. A token
   * bound to a DPoP key needs a proof of that key, as using it would.
   */
  async function revocableClaims(
    token: string,
    incoming: Incoming,
  ): Promise<AccessTokenClaims | undefined> {
    try {
      return await tokens.verifyAccessToken(token);
    } catch (error) {
      if (!(error instanceof TokensError && error.code === "invalid_token")) throw error;
      if (error.reason !== "dpop_required") return undefined;
    }
    const dpop = { ...dpopOf(incoming, incoming.request()), scheme: "DPoP" as const };
    return tokens.verifyAccessToken(token, { dpop });
  }

  async function revoke(incoming: Incoming): Promise<Answer> {
    return guard(async () => {
      if (incoming.method !== "POST") return methodNotAllowed(POST_METHODS);
      const params = await readParams(incoming, limit);
      // token_type_hint is only a hint (RFC 7009 §2.1): the token's shape tells its type.
      const { token, viaCookie } = presentedToken(incoming, params, "token");
      if (looksLikeJwt(token)) {
        // RFC 7009 §2.1 lets revoking an access token end its refresh tokens too.
        const claims = await revocableClaims(token, incoming);
        if (claims !== undefined) await tokens.revokeSession(claims.sid, "logout");
      } else {
        await tokens.revoke(token);
      }
      const answer = json(200, undefined, NO_STORE);
      return viaCookie ? withClearedCookie(answer) : answer;
    });
  }

  /** A public JSON document; HEAD gets the same headers without the body. */
  function cacheable(incoming: Incoming, body: string): Answer {
    return {
      status: 200,
      headers: {
        "cache-control": `public, max-age=${cacheMaxAge}`,
        ...JSON_CONTENT,
      },
      body: incoming.method === "HEAD" ? null : body,
    };
  }

  async function jwks(incoming: Incoming): Promise<Answer> {
    return guard(async () => {
      if (incoming.method !== "GET" && incoming.method !== "HEAD") {
        return methodNotAllowed(GET_METHODS);
      }
      return cacheable(incoming, JSON.stringify(await tokens.jwks()));
    });
  }

  async function metadata(incoming: Incoming): Promise<Answer> {
    if (incoming.method !== "GET" && incoming.method !== "HEAD") {
      return methodNotAllowed(GET_METHODS);
    }
    return cacheable(incoming, metadataJson);
  }

  type Answerer = (incoming: Incoming, context?: RequestContext) => Promise<Answer>;

  /** A handler's public form: a web Request in, a Response out. */
  const serve =
    (answer: Answerer) =>
    async (request: Request, context?: RequestContext): Promise<Response> => {
      const incoming = incomingOf(request);
      return incoming.respond(await answer(incoming, context));
    };

  /** OPTIONS answers with the allowed methods; a CORS layer in front may answer first. */
  function endpoint(path: string, methods: readonly string[], answer: Answerer) {
    const allow = methods.join(", ");
    const answerAll: Answerer = (incoming, context) =>
      incoming.method === "OPTIONS"
        ? Promise.resolve({ status: 204, headers: { allow }, body: null })
        : answer(incoming, context);
    const entry: Endpoint = { path, methods, handle: serve(answerAll) };
    return { entry, answer: answerAll };
  }

  const routes = [
    endpoint(paths.refresh, POST_METHODS, refresh),
    endpoint(paths.revoke, POST_METHODS, revoke),
    endpoint(paths.jwks, GET_METHODS, jwks),
    endpoint(paths.metadata, GET_METHODS, metadata),
  ];
  const endpoints = routes.map((route) => route.entry);
  const byPath = new Map(routes.map((route) => [route.entry.path, route]));

  async function authenticate(
    request: AuthenticatedRequest,
    authOptions: AuthenticateOptions = {},
  ): Promise<AuthResult> {
    const view = headersOf(request);
    const refuse = (status: 400 | 401, challenge: Challenge, error?: TokensError): AuthResult => {
      const answer = bearerChallenge(status, { dpopAlgorithms: proofAlgorithms, ...challenge });
      return {
        ok: false,
        response: view.respond(answer),
        ...(error === undefined ? {} : { error }),
      };
    };
    const credential = readBearer(view.header("authorization"));
    if (credential.kind === "missing") return refuse(401, {});
    if (credential.kind === "malformed") {
      const description = "Malformed Authorization header";
      return refuse(400, { scheme: credential.scheme, error: "invalid_request", description });
    }
    try {
      const claims = await tokens.verifyAccessToken(credential.token, {
        checkSession: authOptions.checkSession ?? options.checkSession ?? false,
        ...(authOptions.audience === undefined ? {} : { audience: authOptions.audience }),
        dpop: { ...dpopOf(view, request), scheme: credential.scheme },
      });
      return { ok: true, claims };
    } catch (error) {
      const challenge =
        error instanceof TokensError ? resourceChallenge(error, credential.scheme) : undefined;
      if (challenge !== undefined) return refuse(401, challenge, error as TokensError);
      const answer = tokensErrorResponse(error, retryAfter);
      if (answer !== undefined && error instanceof TokensError) {
        return { ok: false, response: view.respond(answer), error };
      }
      onError(error);
      return { ok: false, response: view.respond(serverError()) };
    }
  }

  async function issue(
    request: Request,
    { transport, ...issueOptions }: IssueRequestOptions,
    context?: RequestContext,
  ): Promise<Response> {
    const incoming = incomingOf(request);
    const chosen = transport ?? requestedTransport(incoming);
    if (chosen === null) {
      return incoming.respond(
        oauthError(400, "invalid_request", `${TRANSPORT_HEADER} must be "body" or "cookie"`),
      );
    }
    if (chosen === "cookie" && jar === undefined) {
      return incoming.respond(
        oauthError(400, "invalid_request", "Cookie transport is not enabled"),
      );
    }
    try {
      const pair = await tokens.issue({
        ...issueOptions,
        dpop: issueOptions.dpop ?? dpopOf(incoming, incoming.request()),
        client: { ...contextOf(incoming, context), ...issueOptions.client },
      });
      return incoming.respond(tokenAnswer(pair, chosen));
    } catch (error) {
      // The store being down or a refused DPoP proof is not the app's fault; anything else (e.g.
      // a reserved claim) is.
      if (
        error instanceof StoreUnavailableError ||
        error instanceof InvalidDpopProofError ||
        error instanceof UseDpopNonceError
      ) {
        return incoming.respond(tokensErrorResponse(error, retryAfter) ?? serverError());
      }
      throw error;
    }
  }

  return {
    tokens,
    paths,
    endpoints,
    cookie: jar === undefined ? undefined : { name: jar.name, path: jar.path },
    refresh: serve(refresh),
    revoke: serve(revoke),
    jwks: serve(jwks),
    metadata: serve(metadata),
    match: (pathname) => byPath.get(pathname)?.entry,
    async route(request, context) {
      const incoming = incomingOf(request);
      let pathname = incoming.path;
      if (pathname === undefined) {
        try {
          pathname = new URL(request.url).pathname;
        } catch {
          return undefined;
        }
      }
      const route = byPath.get(pathname);
      if (route === undefined) return undefined;
      return incoming.respond(await route.answer(incoming, context));
    },
    authenticate,
    issue,
    issueResponse(request, pair) {
      const view = headersOf(request);
      const transport = requestedTransport(view) === "cookie" && jar ? "cookie" : "body";
      return view.respond(tokenAnswer(pair, transport));
    },
    logoutResponse(body, init) {
      const headers = { ...toNodeHeaders(new Headers(init?.headers)), ...NO_STORE };
      const status = init?.status ?? (body === undefined ? 204 : 200);
      return toResponse(withClearedCookie(json(status, body, headers)));
    },
    clientContext: (request, context) => contextOf(incomingOf(request), context),
    dpopRequest: (request) => dpopOf(headersOf(request), request),
  };
}
