import { type CrossTabNews, createCoordinator } from "./cross-tab.js";
import { TokenClientError } from "./errors.js";
import { Emitter } from "./events.js";
import {
  abortable,
  abortReason,
  answerError,
  callEndpoint,
  type EndpointAnswer,
  isInvalidTokenChallenge,
  isNonceChallenge,
  oauthError,
  tokenResponse,
} from "./http.js";
import { indexedDbKeyStore } from "./indexed-db-key-store.js";
import { createDpopSigner } from "./internal/dpop.js";
import { memoryKeyStore } from "./memory-key-store.js";
import type {
  AccessToken,
  DpopKeyStore,
  DpopOptions,
  FetchFunction,
  LoginResult,
  RefreshedEvent,
  RefreshTokenStorage,
  SessionEndedEvent,
  SessionState,
  TokenClient,
  TokenClientOptions,
  TokenResponseBody,
} from "./types.js";

/** An access token and how it is presented. */
interface Credential {
  token: string;
  /** DPoP-bound (`token_type: "DPoP"`): sent as `Authorization: DPoP` with a proof. */
  dpop: boolean;
}

/** The access token in memory, with the instant it should be replaced. */
interface Held extends Credential {
  expiresAt: number;
  refreshAt: number;
}

/** Why the session ended, minus where it was learnt. */
type EndReason = Omit<SessionEndedEvent, "source">;

const DEFAULT_SKEW_SECONDS = 30;
const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Create a token client: a `fetch` that attaches the access token, refreshes it shortly
 * before expiry and once after a `401 invalid_token`, shares one refresh between any number
 * of concurrent calls (and, in browsers, between tabs), and tells the app when the session
 * ends. Throws a {@link TokenClientError} (`invalid_configuration`) for unusable options.
 *
 * @example Browser, cookie mode (the refresh token is an HttpOnly cookie)
 * ```ts
 * import { createTokenClient } from "@tokens/client";
 *
 * const client = createTokenClient();
 * client.on("sessionEnded", () => router.navigate("/login"));
 * await client.login({ username: "demo", password: "demo" });
 * const me = await client.fetch("/api/me").then((response) => response.json());
 * ```
 *
 * @example DPoP: tokens bound to a non-extractable key kept in IndexedDB
 * ```ts
 * const client = createTokenClient({ dpop: true });
 * await client.login({ username: "demo", password: "demo" });
 * // Sent with `Authorization: DPoP …` and a `DPoP` proof when the server bound the token.
 * const me = await client.fetch("/api/me");
 * ```
 *
 * @example Native app, body mode (the refresh token lives in the Keychain)
 * ```ts
 * const client = createTokenClient({
 *   baseUrl: "https://api.example.com",
 *   transport: "body",
 *   storage: keychainStorage,
 * });
 * const response = await client.fetch("/api/me");
 * ```
 */
export function createTokenClient(options: TokenClientOptions = {}): TokenClient {
  const transport = options.transport ?? "cookie";
  if (transport !== "cookie" && transport !== "body") {
    throw configuration(`transport must be "cookie" or "body", got ${String(transport)}`);
  }
  const storage = transport === "body" ? checkStorage(options.storage) : null;
  const skewMs = nonNegative(options.refreshSkew ?? DEFAULT_SKEW_SECONDS, "refreshSkew") * 1000;
  const timeout = nonNegative(options.timeout ?? DEFAULT_TIMEOUT_MS, "timeout");
  const base = resolveBase(options.baseUrl);
  const urls = {
    login: endpoint(options.endpoints?.login ?? "/auth/login", base),
    refresh: endpoint(options.endpoints?.refresh ?? "/auth/token/refresh", base),
    revoke: endpoint(options.endpoints?.revoke ?? "/auth/token/revoke", base),
  };
  const apiOrigin = (base ?? urls.refresh).origin;
  const shouldAttach = options.shouldAttachToken ?? ((url: URL) => url.origin === apiOrigin);
  const isTokenRejected = options.isTokenRejected ?? isInvalidTokenChallenge;
  const now = options.now ?? Date.now;
  // Cookie-mode token calls must carry the cookie, also when the auth server is another origin.
  const cookieCredentials: RequestCredentials | undefined =
    transport === "cookie" ? "include" : undefined;
  // Looked up per call and called detached: a fetch called as a method of another object throws.
  const fetchImpl: FetchFunction = (input, init) => {
    const impl = options.fetch ?? globalThis.fetch;
    if (typeof impl !== "function") throw configuration("No fetch: pass options.fetch");
    return impl(input, init);
  };

  const dpop = options.dpop ? createDpopSigner(keyStore(options.dpop)) : null;

  const emitter = new Emitter();
  let held: Held | null = null;
  let state: SessionState = "unknown";
  /** Bumps whenever `held` or `state` changes: tells a waiting refresh that news arrived. */
  let generation = 0;
  /** Bumps on login, logout and session end: refreshes started before belong to a gone session. */
  let epoch = 0;
  let inflight: Promise<Credential | null> | null = null;

  const coordinator = createCoordinator(options.crossTab, receive);

  async function hold(tokens: TokenResponseBody, source: RefreshedEvent["source"]): Promise<Held> {
    const lifetime = (tokens.expires_in ?? Number.POSITIVE_INFINITY) * 1000;
    const expiresAt = now() + lifetime;
    const next = {
      token: tokens.access_token,
      dpop: tokens.token_type?.toLowerCase() === "dpop",
      expiresAt,
      refreshAt: expiresAt - Math.min(skewMs, lifetime / 2),
    };
    held = next;
    state = "active";
    generation++;
    emitter.emit("refreshed", { expiresAt, source });
    await coordinator?.publish({
      kind: "tokens",
      accessToken: next.token,
      dpop: next.dpop,
      ...times(next),
    });
    return next;
  }

  async function end(reason: EndReason, source: SessionEndedEvent["source"]): Promise<void> {
    // Ended at once, so no caller starts a refresh while the news goes out.
    const already = state === "ended";
    held = null;
    state = "ended";
    generation++;
    epoch++;
    await coordinator?.publish({
      kind: "ended",
      error: reason.error,
      ...(reason.error_description === undefined
        ? {}
        : { error_description: reason.error_description }),
    });
    if (storage) {
      // A failed clear only costs one refused refresh at the next start: not worth failing for.
      await storage.clear().catch(() => undefined);
    }
    if (!already) emitter.emit("sessionEnded", { ...reason, source });
  }

  function receive(message: CrossTabNews): void {
    if (message.kind === "tokens") {
      // Announcements may cross: never replace a token with an older one.
      if (held && message.expiresAt <= held.expiresAt) return;
      held = {
        token: message.accessToken,
        dpop: message.dpop,
        expiresAt: message.expiresAt,
        refreshAt: message.refreshAt,
      };
      state = "active";
      generation++;
      emitter.emit("refreshed", { expiresAt: message.expiresAt, source: "other-tab" });
      return;
    }
    held = null;
    generation++;
    epoch++;
    if (state !== "ended") {
      state = "ended";
      const { kind: _, ...reason } = message;
      emitter.emit("sessionEnded", { ...reason, source: "other-tab" });
    }
  }

  const fresh = () => (held && now() < held.refreshAt ? held : null);
  const unexpired = () => (held && now() < held.expiresAt ? held : null);

  /**
   * Call a token endpoint; with DPoP, with a proof, and once more if the server asks for a
   * new nonce.
   */
  function callTokenEndpoint(
    url: URL,
    init: RequestInit,
    signal?: AbortSignal,
  ): Promise<EndpointAnswer> {
    if (!dpop) return callEndpoint(fetchImpl, url, init, timeout, signal);
    const send = (proof: string) => {
      const headers = new Headers(init.headers);
      headers.set("dpop", proof);
      return callEndpoint(fetchImpl, url, { ...init, headers }, timeout, signal);
    };
    return dpop.exchange({ method: "POST", url }, send, demandsNonce);
  }

  /** One refresh for every caller of this tab; the lock makes it one for every tab. */
  function sharedRefresh(): Promise<Credential | null> {
    if (!inflight) {
      const seen = generation;
      const work = async () => {
        // Queued behind another tab's refresh: its result (or the session's end) arrived meanwhile.
        if (generation !== seen) {
          if (state === "ended") return null;
          const token = unexpired();
          if (token) return token;
        }
        return refreshOverNetwork();
      };
      inflight = (coordinator ? coordinator.exclusive(work) : work()).finally(() => {
        inflight = null;
      });
    }
    return inflight;
  }

  async function refreshOverNetwork(): Promise<Credential | null> {
    const startedIn = epoch;
    const form = new URLSearchParams({ grant_type: "refresh_token" });
    const headers = new Headers({ accept: "application/json" });
    if (storage) {
      const refreshToken = await failing(read(storage));
      if (!refreshToken) {
        await end(
          { error: "no_session", error_description: "No refresh token is stored" },
          "storage",
        );
        return null;
      }
      form.set("refresh_token", refreshToken);
    } else {
      // The cookie carries the token; the custom header makes cross-site forgery need a preflight.
      headers.set("token-request", "1");
    }
    if (options.clientId !== undefined) form.set("client_id", options.clientId);
    const init: RequestInit = { method: "POST", headers, body: form };
    if (cookieCredentials) init.credentials = cookieCredentials;
    const answer = await failing(callTokenEndpoint(urls.refresh, init));
    // Logged out or in meanwhile: this answer belongs to a session that is gone.
    if (epoch !== startedIn) return unexpired();
    if (answer.ok) {
      const tokens = await failing(Promise.resolve(answer.json).then(accepted));
      if (storage && tokens.refresh_token !== undefined) {
        // Keep the access token even if the write fails: the old refresh token stays valid for
        // the server's reuse grace, which answers it with this same successor.
        await failing(write(storage, tokens.refresh_token)).catch(() => undefined);
      }
      return hold(tokens, "refresh");
    }
    const { error, error_description } = oauthError(answer);
    // invalid_grant: the token is dead. In cookie mode a 400 invalid_request means the browser sent
    // no refresh cookie at all (never logged in, cookie expired or cleared): no session either.
    // A 403 (the CSRF checks) or a 503 leaves the session alone.
    const noCookie = !storage && answer.status === 400 && error === "invalid_request";
    if (error === "invalid_grant" || noCookie) {
      await end(
        {
          error,
          ...(error_description === undefined ? {} : { error_description }),
          status: answer.status,
        },
        "refresh",
      );
      return null;
    }
    return failing(Promise.reject(answerError(answer, "invalid_response", "Refresh")));
  }

  /** Report refresh failures that leave the session in place, then pass them on. */
  async function failing<T>(promise: Promise<T>): Promise<T> {
    try {
      return await promise;
    } catch (error) {
      if (error instanceof TokenClientError) emitter.emit("refreshFailed", error);
      throw error;
    }
  }

  /** A token endpoint's answer as a token response this client can use. */
  const accepted = (json: unknown) => tokenResponse(json, dpop !== null);

  async function getToken(signal?: AbortSignal | null): Promise<Credential | null> {
    const current = fresh();
    if (current) return current;
    if (state === "ended") return null;
    try {
      return await abortable(sharedRefresh(), signal);
    } catch (error) {
      // Inside the skew window the current token still works: use it and refresh next time.
      const still = error instanceof TokenClientError ? unexpired() : null;
      if (still) return still;
      throw error;
    }
  }

  /** The token to retry with after the server rejected `rejected`, or `null` if the session ended. */
  async function tokenAfterRejection(
    rejected: string,
    signal?: AbortSignal | null,
  ): Promise<Credential | null> {
    if (state === "ended") return null;
    if (held && held.token !== rejected && now() < held.expiresAt) return held;
    if (held && held.token === rejected) {
      // The server's verdict outranks our clock: no caller may pick this token again.
      held.refreshAt = 0;
      held.expiresAt = 0;
    }
    return abortable(sharedRefresh(), signal);
  }

  async function adopt(
    tokens: TokenResponseBody,
    source: RefreshedEvent["source"],
  ): Promise<LoginResult> {
    epoch++;
    if (storage && tokens.refresh_token !== undefined) await write(storage, tokens.refresh_token);
    const next = await hold(tokens, source);
    const { refresh_token: _, ...data } = tokens;
    return { accessToken: next.token, expiresAt: next.expiresAt, data };
  }

  /** Token endpoint calls that change the session run under the same lock as refreshes. */
  function exclusive<T>(work: () => Promise<T>): Promise<T> {
    return coordinator ? coordinator.exclusive(work) : work();
  }

  async function authorizedFetch(
    input: string | URL | Request,
    init?: RequestInit,
  ): Promise<Response> {
    const request = isRequest(input) ? input : null;
    const target = request ? parseUrl(request.url) : parseUrl(input as string | URL, base);
    const sourceHeaders = init?.headers !== undefined ? init.headers : request?.headers;
    // Relative URLs resolve against baseUrl: Node and React Native have no page to resolve them.
    const resolved = request ?? target ?? input;
    if (!target || !shouldAttach(target) || new Headers(sourceHeaders).has("authorization")) {
      return fetchImpl(resolved, init);
    }
    const signal = init?.signal ?? request?.signal;
    if (signal?.aborted) throw abortReason(signal);

    // Only a request whose body can be read twice is retried. A Request with a body is never
    // sent itself: every attempt sends a clone (the body is teed, not buffered up front); a
    // stream passed in `init` cannot be replayed.
    const replayable = init?.body == null || !isStream(init.body);
    const cloneEach = init?.body == null && request !== null && request.body !== null;
    const source = () => (cloneEach && request ? request.clone() : resolved);
    const method = init?.method ?? request?.method ?? "GET";

    const send = (credential: Credential | null): Promise<Response> => {
      const headers = new Headers(sourceHeaders);
      if (!credential) return fetchImpl(source(), { ...init, headers });
      if (!dpop || !credential.dpop) {
        headers.set("authorization", `Bearer ${credential.token}`);
        return fetchImpl(source(), { ...init, headers });
      }
      headers.set("authorization", `DPoP ${credential.token}`);
      const proven = (proof: string) => {
        headers.set("dpop", proof);
        return fetchImpl(source(), { ...init, headers });
      };
      const demands = (response: Response) => replayable && isNonceChallenge(response);
      return dpop.exchange(
        { method, url: target, accessToken: credential.token },
        proven,
        demands,
        discard,
      );
    };

    const credential = await getToken(signal);
    const first = await send(credential);
    if (credential === null || !isTokenRejected(first)) return first;
    if (!replayable) {
      // Still recover the session so the caller's own retry works; a failure was reported.
      await tokenAfterRejection(credential.token, signal).catch(() => undefined);
      return first;
    }
    let next: Credential | null;
    try {
      next = await tokenAfterRejection(credential.token, signal);
    } catch (error) {
      await discard(first);
      throw error;
    }
    if (next === null) return first;
    await discard(first);
    return send(next);
  }

  return {
    fetch: authorizedFetch,

    async login(credentials, { signal, headers } = {}) {
      const requestHeaders = new Headers(headers);
      requestHeaders.set("content-type", "application/json");
      requestHeaders.set("accept", "application/json");
      if (transport === "cookie") requestHeaders.set("token-transport", "cookie");
      const init: RequestInit = {
        method: "POST",
        headers: requestHeaders,
        body: JSON.stringify(credentials),
      };
      if (cookieCredentials) init.credentials = cookieCredentials;
      return exclusive(async () => {
        const answer = await callTokenEndpoint(urls.login, init, signal);
        if (!answer.ok) throw answerError(answer, "login_failed", "Login");
        return adopt(accepted(answer.json), "login");
      });
    },

    async setTokens(response) {
      const tokens = accepted(response);
      const result = await exclusive(() => adopt(tokens, "set"));
      return { accessToken: result.accessToken, expiresAt: result.expiresAt };
    },

    async logout({ signal } = {}) {
      return exclusive(async () => {
        const refreshToken = storage ? await read(storage).catch(() => null) : null;
        // Forget first: whatever the server answers, this device is logged out.
        await end({ error: "logout" }, "logout");
        if (storage && !refreshToken) return false;
        const headers = new Headers({ accept: "application/json" });
        const form = new URLSearchParams();
        if (refreshToken) {
          form.set("token", refreshToken);
          form.set("token_type_hint", "refresh_token");
        } else {
          headers.set("token-request", "1");
        }
        if (options.clientId !== undefined) form.set("client_id", options.clientId);
        const init: RequestInit = { method: "POST", headers, body: form };
        if (cookieCredentials) init.credentials = cookieCredentials;
        try {
          return (await callTokenEndpoint(urls.revoke, init, signal)).ok;
        } catch (error) {
          if (error instanceof TokenClientError) return false;
          throw error;
        }
      });
    },

    async getAccessToken({ signal } = {}) {
      return (await getToken(signal))?.token ?? null;
    },

    async refresh({ signal } = {}) {
      if (held) {
        held.refreshAt = 0;
      }
      return (await abortable(sharedRefresh(), signal))?.token ?? null;
    },

    get state() {
      return state;
    },

    on(type, listener) {
      return emitter.on(type, listener);
    },

    off(type, listener) {
      emitter.off(type, listener);
    },

    dispose() {
      coordinator?.close();
      emitter.clear();
    },
  };
}

function times(held: Held): Omit<AccessToken, "accessToken"> & { refreshAt: number } {
  return { expiresAt: held.expiresAt, refreshAt: held.refreshAt };
}

function configuration(message: string): TokenClientError {
  return new TokenClientError("invalid_configuration", message);
}

function nonNegative(value: number, name: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw configuration(`${name} must be a non-negative number, got ${String(value)}`);
  }
  return value;
}

/** Whether a token endpoint refused a proof for lacking the nonce it now names (RFC 9449 §8). */
function demandsNonce(answer: EndpointAnswer): boolean {
  return answer.status === 400 && oauthError(answer).error === "use_dpop_nonce";
}

function keyStore(option: true | DpopOptions): DpopKeyStore {
  if (typeof globalThis.crypto?.subtle?.sign !== "function") {
    throw configuration("dpop needs Web Crypto (crypto.subtle), which this platform lacks");
  }
  const keys = option === true ? undefined : option.keys;
  if (keys === undefined) {
    return typeof indexedDB === "object" && indexedDB !== null
      ? indexedDbKeyStore()
      : memoryKeyStore();
  }
  if (
    typeof keys !== "object" ||
    keys === null ||
    typeof keys.load !== "function" ||
    typeof keys.save !== "function"
  ) {
    throw configuration("dpop.keys needs a key store: { load(), save(pair) }");
  }
  return keys;
}

function checkStorage(storage: RefreshTokenStorage | undefined): RefreshTokenStorage {
  if (
    typeof storage !== "object" ||
    storage === null ||
    typeof storage.get !== "function" ||
    typeof storage.set !== "function" ||
    typeof storage.clear !== "function"
  ) {
    throw configuration('transport "body" needs storage: { get(), set(token), clear() }');
  }
  return storage;
}

function resolveBase(baseUrl: string | URL | undefined): URL | undefined {
  const href = baseUrl ?? (globalThis as { location?: { href?: string } }).location?.href;
  if (href === undefined) return undefined;
  const url = parseUrl(href);
  if (!url) throw configuration(`baseUrl is not a URL: ${String(href)}`);
  return url;
}

function endpoint(path: string, base: URL | undefined): URL {
  const url = parseUrl(path, base);
  if (!url) {
    throw configuration(
      base
        ? `Endpoint is not a URL: ${path}`
        : `Endpoint ${path} is relative: pass baseUrl outside browsers`,
    );
  }
  return url;
}

function parseUrl(input: string | URL, base?: URL): URL | null {
  try {
    return new URL(input, base);
  } catch {
    return null;
  }
}

async function read(storage: RefreshTokenStorage): Promise<string | null> {
  try {
    const token = await storage.get();
    return typeof token === "string" && token !== "" ? token : null;
  } catch (cause) {
    throw new TokenClientError("storage_error", "Reading the refresh token failed", { cause });
  }
}

async function write(storage: RefreshTokenStorage, token: string): Promise<void> {
  try {
    await storage.set(token);
  } catch (cause) {
    throw new TokenClientError("storage_error", "Storing the refresh token failed", { cause });
  }
}

function isRequest(input: unknown): input is Request {
  return (
    typeof input === "object" &&
    input !== null &&
    !(input instanceof URL) &&
    typeof (input as Request).url === "string" &&
    typeof (input as Request).clone === "function"
  );
}

/** Stream bodies are read once; everything else `fetch` accepts can be sent again. */
function isStream(body: unknown): boolean {
  return (
    typeof body === "object" &&
    body !== null &&
    (typeof (body as ReadableStream).getReader === "function" || Symbol.asyncIterator in body)
  );
}

/** Release a response we will not return, so its connection can be reused. */
async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}
