/*
 * Every binding served the way its own tests serve it (see packages/http/test/suite.ts): the token
 * endpoints, `POST /login`, `GET /api/me` (requireAuth) and `GET /api/strict` (checkSession), on a
 * real node:http server listening on 127.0.0.1.
 */
import { createServer } from "node:http";
import { createAdaptorServer } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import * as expressBinding from "@tokens/express";
import * as fastifyBinding from "@tokens/fastify";
import * as honoBinding from "@tokens/hono";
import type { TokenHandlers } from "@tokens/http";
import express from "express";
import Fastify from "fastify";
import { Hono } from "hono";
import { serveOnNode } from "../../http/test/fixtures/node-server.js";
import { createApp } from "../../http/test/fixtures/web-app.js";
import { listen, loginFromUrl, type SuiteServer } from "../../http/test/suite.js";

export type { SuiteServer };

export type Serve = (handlers: TokenHandlers) => Promise<SuiteServer>;

/** The app routes each server protects with its binding's `requireAuth` (or `authenticate`). */
export const PROTECTED_PATHS: readonly string[] = ["/api/me", "/api/strict"];

/**
 * Which requests a server's router hands to what the binding owns: the token endpoints (at the
 * handlers' paths, every method) and the protected routes. Variants a router does not send there
 * are the app's and its framework's to answer, not the binding's.
 */
export interface Routing {
  /** Whether `/AUTH/TOKEN/REFRESH` reaches the route registered as `/auth/token/refresh`. */
  caseInsensitive: boolean;
  /** Whether one trailing slash (`/auth/token/refresh/`) reaches the route without it. */
  trailingSlash: boolean;
  /** The methods the protected routes are registered for; `undefined` when any method reaches them. */
  protectedMethods: readonly string[] | undefined;
}

function serveNodeHttp(handlers: TokenHandlers): Promise<SuiteServer> {
  return listen(
    serveOnNode(createApp(handlers, async (request) => loginFromUrl(new URL(request.url)))),
  );
}

function serveExpress(handlers: TokenHandlers): Promise<SuiteServer> {
  const app = express();
  app.use(expressBinding.tokensRouter(handlers));
  app.post("/login", async (req, res) => {
    const user = loginFromUrl(new URL(req.originalUrl, "http://localhost"));
    if (!user) return void res.status(401).json({ error: "invalid_credentials" });
    await expressBinding.issueTokens(handlers, req, res, user);
  });
  app.get("/api/me", expressBinding.requireAuth(handlers), (req, res) => {
    res.json({ auth: req.auth });
  });
  app.get(
    "/api/strict",
    expressBinding.requireAuth(handlers, { checkSession: true }),
    (req, res) => void res.json({ auth: req.auth }),
  );
  return listen(createServer(app));
}

async function serveFastify(handlers: TokenHandlers): Promise<SuiteServer> {
  const app = Fastify();
  await app.register(fastifyBinding.tokensPlugin, { handlers });
  app.post("/login", async (request, reply) => {
    const user = loginFromUrl(new URL(request.url, "http://localhost"));
    if (!user) return reply.code(401).send({ error: "invalid_credentials" });
    return fastifyBinding.issueTokens(handlers, request, reply, user);
  });
  app.get("/api/me", { onRequest: fastifyBinding.requireAuth(handlers) }, async (request) => ({
    auth: request.auth,
  }));
  app.get(
    "/api/strict",
    { onRequest: fastifyBinding.requireAuth(handlers, { checkSession: true }) },
    async (request) => ({ auth: request.auth }),
  );
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  return { url, close: () => app.close() };
}

function serveHono(handlers: TokenHandlers): Promise<SuiteServer> {
  const clientIp = (c: Parameters<typeof getConnInfo>[0]) => getConnInfo(c).remote.address;
  const app = new Hono()
    .route("/", honoBinding.tokensApp(handlers, { clientIp }))
    .post("/login", async (c) => {
      const user = loginFromUrl(new URL(c.req.url));
      if (!user) return c.json({ error: "invalid_credentials" }, 401);
      return handlers.issue(c.req.raw, user, { ip: clientIp(c) });
    })
    .get("/api/me", honoBinding.requireAuth(handlers), (c) => c.json({ auth: c.get("auth") }))
    .get("/api/strict", honoBinding.requireAuth(handlers, { checkSession: true }), (c) =>
      c.json({ auth: c.get("auth") }),
    );
  return listen(createAdaptorServer({ fetch: app.fetch }) as import("node:http").Server);
}

/*
 * What each router does with the path variants the fuzzer sends, checked against the frameworks
 * as configured above (their defaults):
 * - node:http (`handlers.route`, then the app's own `pathname ===` checks): exact paths only; the
 *   protected routes check the path, not the method, so every method reaches `authenticate`.
 * - Express: `express.Router()` and the app router are case-insensitive and non-strict by
 *   default, so `/AUTH/TOKEN/REFRESH` and `/auth/token/refresh/` reach the tokens router, and
 *   `/API/ME/` reaches requireAuth; `app.get` also answers HEAD.
 * - Fastify (find-my-way): case-sensitive, no trailing-slash or duplicate-slash folding unless
 *   the app sets `routerOptions`; GET routes also get HEAD (`exposeHeadRoutes`).
 * - Hono: case-sensitive and `strict` (a trailing slash is another path); `get` also answers HEAD.
 * None merges `//`, and fetch already resolves dot segments. Fastify and Hono percent-decode the
 * path before matching, node and Express do not; that cannot change ownership here, since the
 * fuzzer percent-encodes only characters that none of the owned paths contains.
 */
const BY_METHOD = ["GET", "HEAD"] as const;

/** Each binding under test. */
export const BINDINGS = {
  node: serveNodeHttp,
  express: serveExpress,
  fastify: serveFastify,
  hono: serveHono,
} satisfies Record<string, Serve>;

/** What each binding's router hands to it, as the servers above configure them. */
export const ROUTING = {
  node: { caseInsensitive: false, trailingSlash: false, protectedMethods: undefined },
  express: { caseInsensitive: true, trailingSlash: true, protectedMethods: BY_METHOD },
  fastify: { caseInsensitive: false, trailingSlash: false, protectedMethods: BY_METHOD },
  hono: { caseInsensitive: false, trailingSlash: false, protectedMethods: BY_METHOD },
} satisfies Record<keyof typeof BINDINGS, Routing>;
