import { createHash, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import { getConnInfo } from "@hono/node-server/conninfo";
import {
  createTokens,
  type DpopConfig,
  generateSigningKey,
  type SessionInfo,
  type SigningKey,
  StoreUnavailableError,
  type TokenStore,
  type Tokens,
  type TokensEvent,
} from "@tokens/core";
import { type AuthEnv, requireAuth, tokensApp } from "@tokens/hono";
import { createHandlers, type TokenHandlers } from "@tokens/http";
import { memoryStore } from "@tokens/memory";
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { deleteCookie, setCookie } from "hono/cookie";
import { secureHeaders } from "hono/secure-headers";
import { PAGE_CSS, PAGE_HTML, PAGE_ICON, SESSION_HINT_COOKIE } from "./page.js";

/**
 * Options of {@link createQuickstart}. Durations are in seconds; unset ones use tokens'
 * defaults.
 *
 * @example
 * ```ts
 * const options: QuickstartOptions = { issuer: "http://localhost:3000", accessTokenTtl: 60 };
 * ```
 */
export interface QuickstartOptions {
  /** Public URL of the server: the tokens' `iss` and the base of every endpoint URL. */
  issuer: string;
  /** Default: a fresh in-memory store. */
  store?: TokenStore;
  /** Default: one fresh Ed25519 key. */
  keys?: SigningKey[];
  accessTokenTtl?: number;
  refreshIdleTtl?: number;
  sessionMaxAge?: number;
  reuseGrace?: number;
  /**
   * DPoP (RFC 9449): sessions started with a proof are bound to the client's key. Default
   * `{ policy: "allowed" }`: clients may bind their tokens, and need not.
   */
  dpop?: DpopConfig;
  /** Audit events (rotations, reuse detection, revocations), as `createTokens` reports them. */
  onEvent?: (event: TokensEvent) => void;
}

/**
 * A configured quickstart server, ready to be served (`app.fetch`).
 *
 * @example
 * ```ts
 * const { app, tokens } = await createQuickstart({ issuer: "http://localhost:3000" });
 * ```
 */
export interface Quickstart {
  app: Hono;
  tokens: Tokens;
  handlers: TokenHandlers;
}

/** The demo's only account. A real app checks a password hash from its user database. */
const USERS = new Map([
  ["demo", { username: "demo", password: "demo", subject: "user_demo", name: "Demo User" }],
]);

const digest = (value: string) => createHash("sha256").update(value).digest();

/** Compares in constant time, and as long for unknown users, so timing reveals nothing. */
function checkPassword(username: string, password: string) {
  const user = USERS.get(username);
  const matches = timingSafeEqual(digest(password), digest(user?.password ?? "\0unknown user\0"));
  return user !== undefined && matches ? user : undefined;
}

/** The socket's address; `undefined` when not served by `@hono/node-server` (e.g. `app.fetch` in tests). */
function clientIp(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Only refresh and revoke read the refresh cookie: scoped to their common prefix, the browser
 * does not send it to `/auth/login` or `/auth/sessions`.
 */
const REFRESH_COOKIE_PATH = "/auth/token";

/** Mirrors the refresh cookie of every answer into {@link SESSION_HINT_COOKIE}. */
function sessionHint(handlers: TokenHandlers, secure: boolean): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const name = handlers.cookie?.name;
    if (name === undefined) return;
    const header = c.res.headers.getSetCookie().find((cookie) => cookie.startsWith(`${name}=`));
    if (header === undefined) return;
    const value = header.slice(name.length + 1).split(";", 1)[0];
    const maxAge = Number(/;\s*max-age=(\d+)/i.exec(header)?.[1] ?? 0);
    const attributes = { path: "/", secure, sameSite: "Strict" } as const;
    if (value === "" || maxAge === 0) deleteCookie(c, SESSION_HINT_COOKIE, attributes);
    else setCookie(c, SESSION_HINT_COOKIE, "1", { ...attributes, maxAge });
  };
}

/**
 * The page's script: the browser code and `@tokens/client`, bundled by this example's build
 * (`tsup.config.ts`) into `dist/public/app.js`. The path resolves from `src/` (tests) and
 * from `dist/` (`pnpm start`) alike, since both sit next to `dist/`.
 */
async function readPageScript(): Promise<string> {
  const file = new URL("../dist/public/app.js", import.meta.url);
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    throw new Error(`${file.pathname} is missing: run pnpm --filter quickstart build`);
  }
}

function sessionView(session: SessionInfo, currentSid: string) {
  return {
    id: session.id,
    current: session.id === currentSid,
    clientId: session.clientId,
    createdAt: session.createdAt,
    lastUsedAt: session.lastUsedAt,
    idleExpiresAt: session.idleExpiresAt,
    expiresAt: session.expiresAt,
    client: session.client,
  };
}

/**
 * Builds the quickstart server: token endpoints, a demo login, protected API routes, the
 * devices list and a page that walks through the browser cookie flow.
 *
 * @example
 * ```ts
 * import { serve } from "@hono/node-server";
 *
 * const { app } = await createQuickstart({ issuer: "http://localhost:3000" });
 * serve({ fetch: app.fetch, port: 3000 });
 * ```
 */
export async function createQuickstart(options: QuickstartOptions): Promise<Quickstart> {
  const issuer = new URL(options.issuer);
  const tokens = createTokens({
    issuer: options.issuer,
    audience: new URL("/api", issuer).href,
    keys: options.keys ?? [await generateSigningKey("EdDSA")],
    store: options.store ?? memoryStore(),
    ...(options.accessTokenTtl === undefined ? {} : { accessTokenTtl: options.accessTokenTtl }),
    ...(options.refreshIdleTtl === undefined ? {} : { refreshIdleTtl: options.refreshIdleTtl }),
    ...(options.sessionMaxAge === undefined ? {} : { sessionMaxAge: options.sessionMaxAge }),
    ...(options.reuseGrace === undefined ? {} : { reuseGrace: options.reuseGrace }),
    ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
    dpop: options.dpop ?? { policy: "allowed" },
  });
  // Over plain http://localhost some browsers drop Secure cookies; anywhere else stay Secure.
  const insecureLocalhost = issuer.protocol === "http:" && LOOPBACK.has(issuer.hostname);
  const handlers = createHandlers(tokens, {
    basePath: "/auth",
    // The public URL, not the one the socket saw: behind a proxy, DPoP proofs name this one.
    baseUrl: options.issuer,
    cookie: { allowInsecureLocalhost: insecureLocalhost, path: REFRESH_COOKIE_PATH },
  });
  // #region check-session
  // Plain verification checks the token's signature and expiry only: after a logout the token
  // stays valid until it expires. Session management must see revocations at once, so these
  // routes also look the session up (one store read) and refuse tokens of ended sessions.
  const verified = requireAuth(handlers);
  const liveSession = requireAuth(handlers, { checkSession: true });
  // #endregion
  const pageScript = await readPageScript();

  const app = new Hono();
  app.use("/auth/*", sessionHint(handlers, !insecureLocalhost));
  // The token endpoints come first, so the page headers below do not run for them: they answer
  // JSON that is never rendered as a document, each with nosniff and Cache-Control: no-store
  // (public JWKS and metadata: a max-age), and Hono's secureHeaders would cost a refresh about a fifth of its
  // time by turning every light response into a full Headers object. Everything else, the page
  // above all, gets the full set.
  app.route("/", tokensApp(handlers, { clientIp }));
  app.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
    }),
  );

  app.get("/", (c) => c.html(PAGE_HTML));
  app.get("/app.js", (c) =>
    c.body(pageScript, 200, { "content-type": "text/javascript; charset=utf-8" }),
  );
  app.get("/app.css", (c) => c.body(PAGE_CSS, 200, { "content-type": "text/css; charset=utf-8" }));
  // Browsers ask for an icon; without one every page load would log a 404.
  app.get("/favicon.svg", (c) => c.body(PAGE_ICON, 200, { "content-type": "image/svg+xml" }));

  // JSON only: a cross-site page cannot send application/json without a CORS preflight, which
  // this server never grants, so login cannot be forged from another site.
  app.post(
    "/auth/login",
    bodyLimit({
      maxSize: 16 * 1024,
      onError: (c) =>
        c.json({ error: "invalid_request", error_description: "Body too large" }, 413),
    }),
    async (c) => {
      if (
        c.req.header("content-type")?.split(";")[0]?.trim().toLowerCase() !== "application/json"
      ) {
        return c.json(
          { error: "invalid_request", error_description: "Send application/json" },
          415,
        );
      }
      const body: unknown = await c.req.json().catch(() => undefined);
      const { username, password } = (
        typeof body === "object" && body !== null ? body : {}
      ) as Record<string, unknown>;
      if (typeof username !== "string" || typeof password !== "string") {
        return c.json(
          { error: "invalid_request", error_description: "username and password are required" },
          400,
        );
      }
      const user = checkPassword(username, password);
      if (!user)
        return c.json(
          { error: "invalid_credentials", error_description: "Wrong username or password" },
          401,
        );
      return handlers.issue(
        c.req.raw,
        {
          subject: user.subject,
          claims: { name: user.name, preferred_username: user.username },
        },
        { ip: clientIp(c) },
      );
    },
  );

  // `?check=session` asks for the stateful check: revoked sessions' tokens get a 401 at once.
  const meAuth: MiddlewareHandler<AuthEnv> = (c, next) =>
    (c.req.query("check") === "session" ? liveSession : verified)(c, next);
  app.get("/api/me", meAuth, (c) => c.json(c.get("auth")));

  app.get("/auth/sessions", liveSession, async (c) => {
    const auth = c.get("auth");
    const sessions = await tokens.listSessions(auth.sub);
    return c.json({ sessions: sessions.map((session) => sessionView(session, auth.sid)) });
  });

  app.delete("/auth/sessions/:id", liveSession, async (c) => {
    const auth = c.get("auth");
    const id = c.req.param("id");
    // Only the caller's own sessions: someone else's id answers exactly like an unknown one.
    const own = (await tokens.listSessions(auth.sub)).some((session) => session.id === id);
    if (!own) return c.json({ error: "not_found", error_description: "No such session" }, 404);
    await tokens.revokeSession(id, "logout");
    return id === auth.sid ? handlers.logoutResponse() : c.body(null, 204);
  });

  app.post("/auth/logout-all", liveSession, async (c) => {
    const revoked = await tokens.revokeSubject(c.get("auth").sub, "logout_all");
    return handlers.logoutResponse({ revoked });
  });

  app.notFound((c) => c.json({ error: "not_found" }, 404));
  app.onError((error, c) => {
    if (error instanceof StoreUnavailableError) {
      c.header("retry-after", "5");
      return c.json(
        { error: "temporarily_unavailable", error_description: "Try again shortly" },
        503,
      );
    }
    console.error(error);
    return c.json({ error: "server_error" }, 500);
  });

  return { app, tokens, handlers };
}
