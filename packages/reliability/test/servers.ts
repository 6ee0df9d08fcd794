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
  app.get("/api/me", { preHandler: fastifyBinding.requireAuth(handlers) }, async (request) => ({
    auth: request.auth,
  }));
  app.get(
    "/api/strict",
    { preHandler: fastifyBinding.requireAuth(handlers, { checkSession: true }) },
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

/** Each binding under test. */
export const BINDINGS = {
  node: serveNodeHttp,
  express: serveExpress,
  fastify: serveFastify,
  hono: serveHono,
} satisfies Record<string, Serve>;
