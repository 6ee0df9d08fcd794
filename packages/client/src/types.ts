import type { TokenClientError } from "./errors.js";

/**
 * A function with `fetch`'s signature: the platform's `fetch`, a polyfill, or a wrapper.
 *
 * @example
 * ```ts
 * const logged: FetchFunction = (input, init) => {
 *   console.debug("fetch", input);
 *   return fetch(input, init);
 * };
 * ```
 */
export type FetchFunction = (
  input: string | URL | Request,
  init?: RequestInit,
) => Promise<Response>;

/**
 * Where the refresh token travels.
 * - `"cookie"` (browsers): an `HttpOnly` cookie the server sets; JavaScript never sees it.
 * - `"body"` (native apps, servers): the token endpoint returns it in JSON and the client keeps
 *   it in {@link RefreshTokenStorage}.
 *
 * @example
 * ```ts
 * const transport: Transport = typeof document === "object" ? "cookie" : "body";
 * ```
 */
export type Transport = "cookie" | "body";

/**
 * Durable home of the refresh token in body mode: the iOS Keychain, Android Keystore-backed
 * storage, an encrypted file. Calls are serialised by the client, never concurrent.
 *
 * @example
 * ```ts
 * import * as SecureStore from "expo-secure-store";
 *
 * const storage: RefreshTokenStorage = {
 *   get: () => SecureStore.getItemAsync("refresh_token"),
 *   set: (token) => SecureStore.setItemAsync("refresh_token", token),
 *   clear: () => SecureStore.deleteItemAsync("refresh_token"),
 * };
 * ```
 */
export interface RefreshTokenStorage {
  /** The stored refresh token, or `null` when there is none. */
  get(): Promise<string | null>;
  /** Replace the stored refresh token (after login and after every rotation). */
  set(token: string): Promise<void>;
  /** Forget the refresh token (logout, session ended). */
  clear(): Promise<void>;
}

/**
 * Cross-tab coordination settings (browsers). `true` uses the defaults below.
 *
 * @example
 * ```ts
 * createTokenClient({ crossTab: { lockName: "billing-refresh", channelName: "billing-tokens" } });
 * ```
 */
export interface CrossTabOptions {
  /** Web Locks name every tab's refresh runs under. Default `"tokens-refresh"`. */
  lockName?: string;
  /**
   * `BroadcastChannel` name new access tokens and session ends are announced on. Every client
   * on the origin with this name shares one session (in body mode: and must share one
   * storage). Default `"tokens"`.
   */
  channelName?: string;
}

/**
 * Paths (or absolute URLs) of the token endpoints, resolved against `baseUrl`.
 *
 * @example
 * ```ts
 * createTokenClient({ endpoints: { login: "/session", refresh: "/session/refresh" } });
 * ```
 */
export interface TokenEndpoints {
  /** Default `"/auth/login"`. */
  login?: string;
  /** Default `"/auth/token/refresh"`. */
  refresh?: string;
  /** Default `"/auth/token/revoke"`. */
  revoke?: string;
}

/**
 * Where the client keeps its DPoP key pair. The built-in ones: {@link indexedDbKeyStore}
 * (browsers, the default there), {@link memoryKeyStore} (the default elsewhere) and
 * `fileKeyStore` from `@tokens/client/node`.
 *
 * The first pair saved wins: `save` must keep a pair that is already stored (another tab or
 * process may have created one meanwhile). The client reads the store again after saving and
 * signs with whatever `load` then returns, so every tab or process sharing a store signs with
 * one key.
 *
 * @example A store in a native app's secure enclave wrapper
 * ```ts
 * const keys: DpopKeyStore = {
 *   load: () => enclave.loadKeyPair("dpop"),
 *   save: (pair) => enclave.saveKeyPairIfAbsent("dpop", pair),
 * };
 * createTokenClient({ dpop: { keys } });
 * ```
 */
export interface DpopKeyStore {
  /** The stored ES256 (ECDSA P-256) key pair, or `undefined` when there is none yet. */
  load(): Promise<CryptoKeyPair | undefined>;
  /** Store `pair` unless a pair is stored already (then keep that one and resolve). */
  save(pair: CryptoKeyPair): Promise<void>;
  /**
   * Whether the store needs the private key extractable to keep it (it writes it out, as a
   * file does). The client then generates an extractable pair for `save`; `load` should
   * import it back non-extractable. Default `false`: the pair is generated non-extractable.
   */
  readonly extractable?: boolean;
}

/**
 * DPoP (RFC 9449) settings: `dpop: true` uses the defaults.
 *
 * @example
 * ```ts
 * import { fileKeyStore } from "@tokens/client/node";
 *
 * createTokenClient({ baseUrl, transport: "body", storage, dpop: { keys: fileKeyStore(".dpop-key.json") } });
 * ```
 */
export interface DpopOptions {
  /**
   * Where the key pair lives. Default: {@link indexedDbKeyStore} where IndexedDB exists (one
   * non-extractable key for every tab of the origin, kept across reloads), else
   * {@link memoryKeyStore} (a new key per process: a session bound to it ends with the process).
   */
  keys?: DpopKeyStore;
}

/**
 * Options of {@link createTokenClient}.
 *
 * @example
 * ```ts
 * const options: TokenClientOptions = { baseUrl: "https://app.example.com", refreshSkew: 60 };
 * ```
 */
export interface TokenClientOptions {
  /**
   * Base URL endpoints and relative request URLs resolve against. Default: the page's
   * `location` in browsers; required elsewhere (Node, React Native).
   */
  baseUrl?: string | URL;
  /** Token endpoint paths. */
  endpoints?: TokenEndpoints;
  /** Where the refresh token travels. Default `"cookie"`. */
  transport?: Transport;
  /** Refresh-token storage; required in body mode, unused in cookie mode. */
  storage?: RefreshTokenStorage;
  /**
   * Refresh this many seconds before the access token expires. Default 30. Capped at half
   * the token's lifetime, so very short-lived tokens are still used before being replaced.
   */
  refreshSkew?: number;
  /** Milliseconds a token endpoint call (login, refresh, revoke) may take. Default 10 000. */
  timeout?: number;
  /** The `fetch` to send requests with. Default: the global `fetch`, looked up per call. */
  fetch?: FetchFunction;
  /**
   * Coordinate refreshes between tabs with Web Locks and `BroadcastChannel`. Default: on in
   * documents that have `navigator.locks`, off elsewhere (Node, React Native, workers), so
   * unrelated clients in one process never share tokens. `false` turns it off.
   */
  crossTab?: boolean | CrossTabOptions;
  /**
   * Which requests `client.fetch` attaches the access token to. Default: those to the origin
   * of `baseUrl`, so the token never leaks to third parties.
   */
  shouldAttachToken?: (url: URL) => boolean;
  /**
   * Whether a response means "this access token is no longer accepted" (refresh and retry).
   * Default: 401 with a `WWW-Authenticate: Bearer error="invalid_token"` (or `DPoP …`) challenge. Cross-origin
   * APIs must list `WWW-Authenticate` in `Access-Control-Expose-Headers` for it to be readable.
   */
  isTokenRejected?: (response: Response) => boolean;
  /** `client_id` sent with refresh and revoke requests, if the server expects one. */
  clientId?: string;
  /**
   * Current time in epoch milliseconds, for scheduling refreshes. Default `Date.now`. DPoP
   * proofs always carry the wall clock (`Date.now`): the server compares their `iat` with its own.
   */
  now?: () => number;
  /**
   * Sender-constrain the tokens with DPoP (RFC 9449): every token endpoint call (login,
   * refresh, revoke) and every `client.fetch` that carries the access token also carries a
   * proof signed with a key the client holds, so a copied refresh or access token is useless
   * without that key. Tokens the server answers with `token_type: "DPoP"` are then sent as
   * `Authorization: DPoP …`. A `DPoP-Nonce` the server demands is picked up and the call
   * retried once. Default off.
   */
  dpop?: boolean | DpopOptions;
}

/**
 * What the client knows about its session.
 * - `"unknown"`: not yet asked (cookie mode before the first refresh).
 * - `"active"`: it holds an access token, or a refresh just succeeded.
 * - `"ended"`: logged out, never logged in, or the server ended the session.
 *
 * @example
 * ```ts
 * if (client.state === "ended") router.navigate("/login");
 * ```
 */
export type SessionState = "unknown" | "active" | "ended";

/**
 * An access token the client holds.
 *
 * @example
 * ```ts
 * const { accessToken, expiresAt } = await client.login({ username, password });
 * console.log(`valid until ${new Date(expiresAt).toISOString()}`);
 * ```
 */
export interface AccessToken {
  /** The access token (sent as `Bearer`, or as `DPoP` with a proof when it is DPoP-bound). */
  accessToken: string;
  /** When it expires, epoch milliseconds on this device's clock. */
  expiresAt: number;
}

/**
 * The result of {@link TokenClient.login}: the access token plus whatever else the server
 * answered (the session info, for instance). The refresh token is never included.
 *
 * @example
 * ```ts
 * const result: LoginResult = await client.login({ username: "demo", password: "demo" });
 * console.log(result.data.session);
 * ```
 */
export interface LoginResult extends AccessToken {
  /** The server's JSON answer without `refresh_token`. */
  data: Record<string, unknown>;
}

/**
 * A token endpoint answer (RFC 6749 §5.1), as {@link TokenClient.setTokens} accepts it.
 *
 * @example
 * ```ts
 * await client.setTokens(await exchangeAuthorizationCode(code));
 * ```
 */
export interface TokenResponseBody {
  access_token: string;
  /** `Bearer`, or `DPoP` (case-insensitive) for a DPoP-bound token when `dpop` is on. */
  token_type?: string;
  /** Seconds the access token lives. */
  expires_in?: number;
  /** Body mode only: stored through {@link RefreshTokenStorage}. */
  refresh_token?: string;
  [field: string]: unknown;
}

/**
 * Payload of the `refreshed` event: a new access token is in use.
 *
 * @example
 * ```ts
 * client.on("refreshed", ({ expiresAt, source }) => console.debug(source, expiresAt));
 * ```
 */
export interface RefreshedEvent {
  /** When the new access token expires, epoch milliseconds. */
  expiresAt: number;
  /** What produced it: a refresh in this tab, a login, `setTokens`, or another tab. */
  source: "refresh" | "login" | "set" | "other-tab";
}

/**
 * Payload of the `sessionEnded` event: the client has no usable session any more; route the
 * user to login.
 *
 * @example
 * ```ts
 * client.on("sessionEnded", ({ error, error_description }) => {
 *   router.navigate(`/login?reason=${encodeURIComponent(error_description ?? error)}`);
 * });
 * ```
 */
export interface SessionEndedEvent {
  /**
   * The server's RFC 6749 `error` (`invalid_grant`), `"logout"` after {@link TokenClient.logout},
   * or `"no_session"` when body-mode storage holds no refresh token.
   */
  error: string;
  /** The server's `error_description` (e.g. why the grant is invalid), if any. */
  error_description?: string;
  /** HTTP status of the refusal, when it came from the server. */
  status?: number;
  /** Where the end was learnt: a refresh in this tab, a logout in this tab, or another tab. */
  source: "refresh" | "logout" | "storage" | "other-tab";
}

/**
 * Events of a {@link TokenClient} and their payloads.
 *
 * @example
 * ```ts
 * const onEnded = (event: TokenClientEvents["sessionEnded"]) => showLogin(event.error);
 * client.on("sessionEnded", onEnded);
 * ```
 */
export interface TokenClientEvents {
  /** A new access token is in use. */
  refreshed: RefreshedEvent;
  /** The session is over (server refusal `invalid_grant`, logout, or another tab learnt so). */
  sessionEnded: SessionEndedEvent;
  /** A refresh failed without ending the session (503, network, timeout): retry later. */
  refreshFailed: TokenClientError;
}

/**
 * Options of the client's own calls (`login`, `logout`, `getAccessToken`, `refresh`).
 *
 * @example
 * ```ts
 * await client.getAccessToken({ signal: AbortSignal.timeout(2_000) });
 * ```
 */
export interface CallOptions {
  /** Stops waiting; a refresh shared with other callers keeps running for them. */
  signal?: AbortSignal;
}

/**
 * The client: a `fetch` that keeps the access token fresh, plus session controls.
 *
 * @example
 * ```ts
 * const client = createTokenClient();
 * await client.login({ username: "demo", password: "demo" });
 * const me = await client.fetch("/api/me").then((r) => r.json());
 * ```
 */
export interface TokenClient {
  /**
   * `fetch` with the access token attached: refreshed first when it is about to expire, and
   * once more if the server rejects it (`401 invalid_token`), after which the request is sent
   * again once. A second rejection is returned as is. Resolves like `fetch`; rejects like
   * `fetch` (network, abort) or with a {@link TokenClientError} when a needed refresh failed
   * without ending the session. A request whose body is a stream cannot be sent twice: its
   * rejection is returned without a retry.
   */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /**
   * Log in: POST the credentials as JSON to the login endpoint and keep the tokens. Rejects
   * with a {@link TokenClientError} carrying the server's `error` when refused.
   */
  login(
    credentials: unknown,
    options?: CallOptions & { headers?: HeadersInit },
  ): Promise<LoginResult>;
  /** Adopt a token response obtained elsewhere (your own login flow, a code exchange). */
  setTokens(response: TokenResponseBody): Promise<AccessToken>;
  /**
   * Revoke the session server-side and forget it locally (always, even when the server is
   * unreachable). Resolves whether the server confirmed the revocation. Other tabs end too.
   */
  logout(options?: CallOptions): Promise<boolean>;
  /**
   * A valid access token, refreshed first if needed; `null` when there is no session. For
   * transports `fetch` does not cover (WebSocket auth, SSE). A DPoP-bound token is refused
   * without a proof, which only `client.fetch` makes.
   */
  getAccessToken(options?: CallOptions): Promise<string | null>;
  /** Refresh now, whatever the current token's age. Resolves the new token, or `null` if the session ended. */
  refresh(options?: CallOptions): Promise<string | null>;
  /** What the client knows about its session. */
  readonly state: SessionState;
  /** Subscribe to an event; returns the unsubscribe function. */
  on<K extends keyof TokenClientEvents>(
    type: K,
    listener: (event: TokenClientEvents[K]) => void,
  ): () => void;
  /** Unsubscribe a listener added with {@link TokenClient.on}. */
  off<K extends keyof TokenClientEvents>(
    type: K,
    listener: (event: TokenClientEvents[K]) => void,
  ): void;
  /** Close the cross-tab channel and drop listeners. The client must not be used afterwards. */
  dispose(): void;
}
