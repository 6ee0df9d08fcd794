import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A small real HTTP token server on 127.0.0.1 speaking the quickstart's routes: rotating
 * refresh tokens (a spent one revokes the session), cookie and body transports, and an API
 * that answers RFC 6750 challenges. It counts what clients do and lets tests steer failures.
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
}

export async function startTokenServer(): Promise<TestTokenServer> {
  const sessions = new Map<string, Session>();
  const refreshTokens = new Map<string, string>(); // token → session id
  const accessTokens = new Map<string, { session: string; valid: boolean }>();

  const issue = (sessionId: string) => {
    const refreshToken = `rt_${randomBytes(12).toString("hex")}`;
    const accessToken = `at_${randomBytes(12).toString("hex")}`;
    refreshTokens.set(refreshToken, sessionId);
    accessTokens.set(accessToken, { session: sessionId, valid: true });
    const session = sessions.get(sessionId);
    if (session) session.live = refreshToken;
    else sessions.set(sessionId, { revoked: false, live: refreshToken });
    return { refreshToken, accessToken };
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
    tokens: { accessToken: string; refreshToken: string },
    cookie: boolean,
  ) => {
    const body: Record<string, unknown> = {
      access_token: tokens.accessToken,
      token_type: "Bearer",
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
    const token = authorization?.startsWith("Bearer ") ? authorization.slice(7) : null;
    const record = token ? accessTokens.get(token) : undefined;
    const session = record ? sessions.get(record.session) : undefined;
    if (!token || !record?.valid || !session || session.revoked || state.rejectAllAccessTokens) {
      state.apiRejections++;
      const challenge = token
        ? 'Bearer error="invalid_token", error_description="expired"'
        : "Bearer";
      json(response, 401, { error: "invalid_token" }, { "www-authenticate": challenge });
      return;
    }
    if (request.url === "/api/echo") state.echoed.push(body);
    json(response, 200, { session: record.session, body });
  };

  const refresh = async (request: IncomingMessage, response: ServerResponse, body: string) => {
    state.refreshes++;
    state.refreshRequests.push({ headers: request.headers, body });
    if (state.refreshGate) await state.refreshGate;
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
    if (session.live !== presented) {
      session.revoked = true;
      json(response, 400, { error: "invalid_grant", error_description: "refresh token reused" });
      return;
    }
    state.rotations++;
    pair(response, issue(sessionId), cookieMode);
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const route = `${request.method} ${request.url}`;
      if (route === "POST /auth/login") {
        state.logins.push({ headers: request.headers, body });
        const credentials = JSON.parse(body || "{}") as { username?: string; password?: string };
        if (credentials.username !== "demo" || credentials.password !== "demo") {
          json(response, 401, {
            error: "invalid_grant",
            error_description: "wrong username or password",
          });
          return;
        }
        pair(
          response,
          issue(randomBytes(8).toString("hex")),
          request.headers["token-transport"] === "cookie",
        );
      } else if (route === "POST /auth/token/refresh") {
        void refresh(request, response, body);
      } else if (route === "POST /auth/token/revoke") {
        const presented =
          new URLSearchParams(body).get("token") ??
          /(?:^|;\s*)rt=([^;]+)/.exec(request.headers.cookie ?? "")?.[1];
        state.revocations.push(presented ?? "");
        const session = presented ? sessions.get(refreshTokens.get(presented) ?? "") : undefined;
        if (session) session.revoked = true;
        response.writeHead(200, { "set-cookie": "rt=; Max-Age=0; Path=/auth" });
        response.end();
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
