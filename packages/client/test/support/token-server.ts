import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { calculateJwkThumbprint, EmbeddedJWK, type JWK, jwtVerify } from "jose";

/**
 * A small real HTTP token server on 127.0.0.1 speaking the quickstart's routes: rotating
 * refresh tokens (a spent one revokes the session), cookie and body transports, and an API
 * that answers RFC 6750 challenges. It counts what clients do and lets tests steer failures.
 *
 * DPoP (RFC 9449): every `DPoP` header is verified with jose and recorded. A login or refresh
 * with a valid proof gets `token_type: "DPoP"`; a login with one binds the session to the key,
 * whose refreshes then need a proof from it. Access tokens issued with a proof need
 * `Authorization: DPoP` and a proof with `ath` from the same key.
 */
export interface TestTokenServer {
  url: string;
  /** Refresh requests received (any outcome). */
  refreshes: number;
  /** Successful rotations. */
  rotations: number;
  /** API requests received, and how many were refused with 401. */
  apiCalls: number;
  apiRejections: number;
  /** Authorization headers the API saw, in order. */
  authorizations: Array<string | null>;
  /** Bodies `/api/echo` received, in order. */
  echoed: string[];
  /** Refresh-request headers and bodies, in order. */
  refreshRequests: Array<{ headers: IncomingMessage["headers"]; body: string }>;
  /** Every `DPoP` header received, in order, with what verification made of it. */
  proofs: RecordedProof[];
  /** When set, proofs must carry this nonce; others are refused with `use_dpop_nonce`. */
  requiredNonce: string | null;
  /** Name a new nonce at every refusal (a server whose nonce the client can never catch). */
  rotateNonce: boolean;
  /** Logins and revocations received. */
  logins: Array<{ headers: IncomingMessage["headers"]; body: string }>;
  revocations: string[];
  /** How the refresh endpoint behaves. */
  refreshMode: "normal" | "unavailable" | "hang" | "garbage";
  /** While set, refresh requests wait for this promise before being answered. */
  refreshGate: Promise<void> | null;
  /** While set, API requests with an `x-hold` header wait for it before being answered. */
  apiGate: Promise<void> | null;
  /** The API rejects every access token (a server that keeps saying 401). */
  rejectAllAccessTokens: boolean;
  /** Access-token lifetime the server announces, in seconds. */
  accessTtl: number;
  /** Make every access token issued so far invalid (as if expired). */
  expireAccessTokens(): void;
  /** Revoke every session (an admin "log out everywhere"). */
  revokeAll(): void;
  /** Start a session directly and return its refresh token (a device logged in earlier). */
  issueRefreshToken(): string;
  close(): Promise<void>;
}

interface Session {
  revoked: boolean;
  live: string;
  /** Thumbprint of the key the session is bound to, if any. */
  jkt: string | null;
}

/** A `DPoP` header as the server saw it. */
export interface RecordedProof {
  route: string;
  proof: string;
  /** Verified header and claims; `null` when verification failed (see `error`). */
  header: Record<string, unknown> | null;
  claims: Record<string, unknown> | null;
  jkt: string | null;
  error: string | null;
}

/** The proof's verdict: the key's thumbprint, or why it is refused. */
type ProofCheck =
  | { jkt: string }
  | { error: "invalid_dpop_proof" }
  | { error: "use_dpop_nonce"; nonce: string }
  | null;

export async function startTokenServer(): Promise<TestTokenServer> {
  const sessions = new Map<string, Session>();
  const refreshTokens = new Map<string, string>(); // token → session id
  const accessTokens = new Map<string, { session: string; valid: boolean; jkt: string | null }>();
  const seenJtis = new Set<string>();

  /** A new pair; `jkt` binds the access token (and, for a new session, the session). */
  const issue = (sessionId: string, jkt: string | null = null) => {
    const refreshToken = `rt_${randomBytes(12).toString("hex")}`;
    const accessToken = `at_${randomBytes(12).toString("hex")}`;
    refreshTokens.set(refreshToken, sessionId);
    accessTokens.set(accessToken, { session: sessionId, valid: true, jkt });
    const session = sessions.get(sessionId);
    if (session) session.live = refreshToken;
    else sessions.set(sessionId, { revoked: false, live: refreshToken, jkt });
    return { refreshToken, accessToken, dpop: jkt !== null };
  };

  /** Verify the request's proof (if any) as RFC 9449 §4.3 asks, and record it. */
  const checkProof = async (
    request: IncomingMessage,
    accessToken?: string,
  ): Promise<ProofCheck> => {
    const proof = request.headers.dpop;
    if (proof === undefined) return null;
    const route = `${request.method} ${request.url}`;
    const recorded: RecordedProof = {
      route,
      proof: String(proof),
      header: null,
      claims: null,
      jkt: null,
      error: null,
    };
    state.proofs.push(recorded);
    try {
      if (typeof proof !== "string") throw new Error("several DPoP headers");
      const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, {
        typ: "dpop+jwt",
        algorithms: ["ES256"],
        maxTokenAge: 60,
      });
      recorded.header = protectedHeader as Record<string, unknown>;
      recorded.claims = payload as Record<string, unknown>;
      const path = new URL(request.url ?? "/", state.url).pathname;
      if (payload.htm !== request.method) throw new Error("htm");
      if (payload.htu !== `${state.url}${path}`) throw new Error("htu");
      if (typeof payload.jti !== "string" || seenJtis.has(payload.jti)) throw new Error("jti");
      seenJtis.add(payload.jti);
      const ath = accessToken && createHash("sha256").update(accessToken).digest("base64url");
      if (payload.ath !== ath) throw new Error("ath");
      recorded.jkt = await calculateJwkThumbprint(protectedHeader.jwk as JWK);
    } catch (error) {
      recorded.error = error instanceof Error ? error.message : String(error);
      return { error: "invalid_dpop_proof" };
    }
    const nonce = state.requiredNonce;
    if (nonce !== null && recorded.claims?.nonce !== nonce) {
      recorded.error = "nonce";
      // Rotating: the nonce just named is stale before the client can use it.
      if (state.rotateNonce) state.requiredNonce = randomBytes(8).toString("hex");
      return { error: "use_dpop_nonce", nonce };
    }
    return { jkt: recorded.jkt };
  };

  /** The `DPoP-Nonce` header a refusal names, if it demands one. */
  const nonceHeader = (check: ProofCheck): Record<string, string> =>
    check && "nonce" in check ? { "dpop-nonce": check.nonce } : {};

  /** Answer a token endpoint's proof refusal (RFC 9449 §8); true when it was one. */
  const refusedProof = (response: ServerResponse, check: ProofCheck): boolean => {
    if (!check || !("error" in check)) return false;
    json(response, 400, { error: check.error }, nonceHeader(check));
    return true;
  };

  const state: TestTokenServer = {
    url: "",
    refreshes: 0,
    rotations: 0,
    apiCalls: 0,
    apiRejections: 0,
    authorizations: [],
    echoed: [],
    refreshRequests: [],
    logins: [],
    revocations: [],
    proofs: [],
    requiredNonce: null,
    rotateNonce: false,
    refreshMode: "normal",
    refreshGate: null,
    apiGate: null,
    rejectAllAccessTokens: false,
    accessTtl: 900,
    expireAccessTokens() {
      for (const record of accessTokens.values()) record.valid = false;
    },
    revokeAll() {
      for (const session of sessions.values()) session.revoked = true;
    },
    issueRefreshToken() {
      return issue(randomBytes(8).toString("hex")).refreshToken;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const json = (
    response: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    response.writeHead(status, {
      "content-type": "application/json",
      "cache-control": "no-store",
      ...headers,
    });
    response.end(JSON.stringify(body));
  };

  const pair = (
    response: ServerResponse,
    tokens: { accessToken: string; refreshToken: string; dpop: boolean },
    cookie: boolean,
  ) => {
    const body: Record<string, unknown> = {
      access_token: tokens.accessToken,
      token_type: tokens.dpop ? "DPoP" : "Bearer",
      expires_in: state.accessTtl,
    };
    if (cookie) {
      json(response, 200, body, {
        "set-cookie": `rt=${tokens.refreshToken}; HttpOnly; Path=/auth; SameSite=Strict`,
      });
    } else {
      json(response, 200, { ...body, refresh_token: tokens.refreshToken });
    }
  };

  const api = async (request: IncomingMessage, response: ServerResponse, body: string) => {
    state.apiCalls++;
    if (request.headers["x-hold"] && state.apiGate) await state.apiGate;
    const authorization = request.headers.authorization ?? null;
    state.authorizations.push(authorization);
    const [, scheme = "", token = null] = /^(Bearer|DPoP) (.+)$/.exec(authorization ?? "") ?? [];
    const record = token ? accessTokens.get(token) : undefined;
    const session = record ? sessions.get(record.session) : undefined;
    const bound = record?.jkt != null;
    const refuse = (challenge: string, headers: Record<string, string> = {}) => {
      state.apiRejections++;
      json(
        response,
        401,
        { error: "invalid_token" },
        { "www-authenticate": challenge, ...headers },
      );
    };
    const check = await checkProof(request, token ?? "");
    if (!token || !record?.valid || !session || session.revoked || state.rejectAllAccessTokens) {
      const challenge = bound ? "DPoP" : "Bearer";
      refuse(token ? `${challenge} error="invalid_token", error_description="expired"` : challenge);
      return;
    }
    if (bound) {
      if (scheme !== "DPoP" || !check || "error" in check || check.jkt !== record.jkt) {
        const error = check && "error" in check ? check.error : "invalid_dpop_proof";
        refuse(`DPoP error="${error}", algs="ES256"`, nonceHeader(check));
        return;
      }
    } else if (scheme !== "Bearer") {
      refuse('Bearer error="invalid_token"');
      return;
    }
    if (request.url === "/api/echo") state.echoed.push(body);
    json(response, 200, { session: record.session, body });
  };

  const refresh = async (request: IncomingMessage, response: ServerResponse, body: string) => {
    state.refreshes++;
    state.refreshRequests.push({ headers: request.headers, body });
    if (state.refreshGate) await state.refreshGate;
    const check = await checkProof(request);
    if (refusedProof(response, check)) return;
    const jkt = check && "jkt" in check ? check.jkt : null;
    if (state.refreshMode === "hang") return; // never answers; the client must time out
    if (state.refreshMode === "unavailable") {
      json(
        response,
        503,
        { error: "temporarily_unavailable", error_description: "store unavailable" },
        { "retry-after": "1" },
      );
      return;
    }
    if (state.refreshMode === "garbage") {
      json(response, 200, { hello: "world" });
      return;
    }
    const form = new URLSearchParams(body);
    const fromCookie = /(?:^|;\s*)rt=([^;]+)/.exec(request.headers.cookie ?? "")?.[1];
    const cookieMode = form.get("refresh_token") === null;
    // Same answers as @tokens/http: no token at all is a 400, a cookie without the header a 403.
    if (cookieMode && !fromCookie) {
      json(response, 400, {
        error: "invalid_request",
        error_description: "Parameter refresh_token is required",
      });
      return;
    }
    if (cookieMode && request.headers["token-request"] !== "1") {
      json(response, 403, {
        error: "invalid_request",
        error_description: "Token-Request header missing",
      });
      return;
    }
    const presented = form.get("refresh_token") ?? fromCookie;
    const sessionId = presented ? refreshTokens.get(presented) : undefined;
    const session = sessionId ? sessions.get(sessionId) : undefined;
    if (!presented || !sessionId || !session) {
      json(response, 400, { error: "invalid_grant", error_description: "refresh token not found" });
      return;
    }
    if (session.revoked) {
      json(response, 400, { error: "invalid_grant", error_description: "session revoked" });
      return;
    }
    if (session.jkt !== null && session.jkt !== jkt) {
      json(response, 400, { error: "invalid_dpop_proof", error_description: "wrong or no key" });
      return;
    }
    if (session.live !== presented) {
      session.revoked = true;
      json(response, 400, { error: "invalid_grant", error_description: "refresh token reused" });
      return;
    }
    state.rotations++;
    pair(response, issue(sessionId, jkt), cookieMode);
  };

  const login = async (request: IncomingMessage, response: ServerResponse, body: string) => {
    state.logins.push({ headers: request.headers, body });
    const check = await checkProof(request);
    if (refusedProof(response, check)) return;
    const credentials = JSON.parse(body || "{}") as { username?: string; password?: string };
    if (credentials.username !== "demo" || credentials.password !== "demo") {
      json(response, 401, {
        error: "invalid_grant",
        error_description: "wrong username or password",
      });
      return;
    }
    const jkt = check && "jkt" in check ? check.jkt : null;
    pair(
      response,
      issue(randomBytes(8).toString("hex"), jkt),
      request.headers["token-transport"] === "cookie",
    );
  };

  const revoke = async (request: IncomingMessage, response: ServerResponse, body: string) => {
    await checkProof(request);
    const presented =
      new URLSearchParams(body).get("token") ??
      /(?:^|;\s*)rt=([^;]+)/.exec(request.headers.cookie ?? "")?.[1];
    state.revocations.push(presented ?? "");
    const session = presented ? sessions.get(refreshTokens.get(presented) ?? "") : undefined;
    if (session) session.revoked = true;
    response.writeHead(200, { "set-cookie": "rt=; Max-Age=0; Path=/auth" });
    response.end();
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const route = `${request.method} ${request.url}`;
      if (route === "POST /auth/login") {
        void login(request, response, body);
      } else if (route === "POST /auth/token/refresh") {
        void refresh(request, response, body);
      } else if (route === "POST /auth/token/revoke") {
        void revoke(request, response, body);
      } else if (request.url?.startsWith("/api/")) {
        void api(request, response, body);
      } else {
        json(response, 404, { error: "not_found" });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

/** A refresh-token storage in memory: stands in for the Keychain in Node tests. */
export function memoryStorage(initial: string | null = null) {
  const storage = {
    value: initial,
    writes: 0,
    async get() {
      return storage.value;
    },
    async set(token: string) {
      storage.writes++;
      storage.value = token;
    },
    async clear() {
      storage.value = null;
    },
  };
  return storage;
}

/**
 * Node's fetch has no cookie jar; this one keeps the cookies a server sets, as a browser would,
 * so cookie mode can be exercised from Node.
 */
export function cookieJarFetch() {
  const jar = new Map<string, string>();
  return {
    jar,
    fetch: async (input: string | URL | Request, init?: RequestInit) => {
      const headers = new Headers(init?.headers);
      if (jar.size > 0)
        headers.set("cookie", [...jar].map(([name, value]) => `${name}=${value}`).join("; "));
      const response = await fetch(input, { ...init, headers });
      for (const line of response.headers.getSetCookie()) {
        const [pair = ""] = line.split(";");
        const [name = "", value = ""] = pair.split("=");
        if (/max-age=0/i.test(line) || value === "") jar.delete(name);
        else jar.set(name, value);
      }
      return response;
    },
  };
}

/**
 * A POST of `text` to the test server's echo route as a stream (`duplex: "half"`): a body that
 * can be sent once only, so the client cannot resend it after a 401.
 *
 * @example
 * ```ts
 * expect((await postStreamed(client, "once")).status).toBe(401);
 * ```
 */
export function postStreamed(client: { fetch: typeof fetch }, text: string): Promise<Response> {
  const body = new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(text));
      controller.close();
    },
  });
  return client.fetch("/api/echo", { method: "POST", body, duplex: "half" } as RequestInit);
}
