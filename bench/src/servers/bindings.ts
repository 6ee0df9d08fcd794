import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Tokens, TokensError } from "@tokens/core";
import type { ServerTarget } from "../load/protocol.js";
import { close, FIXED_BODY, issueMany, listen, memoryTokens } from "./common.js";

/**
 * Three servers per framework: the binding (the refresh endpoint at /auth/token/refresh), the
 * same refresh written by hand as a route calling `tokens.refresh` (/token), and a route
 * answering a fixed JSON body (/token) — the framework's ceiling.
 */
export type Variant = "binding" | "manual" | "fixed";

/** `tokens.refresh` as a route would call it: the answer as JSON, an error as its code. */
async function refreshAnswer(
  tokens: Tokens,
  token: unknown,
): Promise<{ status: number; body: unknown }> {
  try {
    const { session: _session, ...pair } = await tokens.refresh(token);
    return { status: 200, body: pair };
  } catch (error) {
    if (error instanceof TokensError) return { status: 400, body: { error: error.code } };
    return { status: 500, body: { error: "server_error" } };
  }
}

function target(server: Server, tokens: Tokens | undefined): ServerTarget {
  return {
    listen: () => listen(server),
    seed: (count) =>
      tokens ? issueMany(tokens, count) : Promise.resolve(Array(count).fill("unused")),
    close: () => close(server),
  };
}

export async function nodeTarget(variant: Variant): Promise<ServerTarget> {
  const tokens = await memoryTokens();
  if (variant === "fixed") {
    const server = createServer((req, res) => {
      req.resume();
      req.on("end", () =>
        res.writeHead(200, { "content-type": "application/json" }).end(FIXED_BODY),
      );
    });
    return target(server, undefined);
  }
  if (variant === "manual") return (await import("./core-node.js")).coreNodeTarget();
  const { createHandlers, sendWebResponse, toWebRequest } = await import("@tokens/http");
  const handlers = createHandlers(tokens);
  const server = createServer(async (req, res) => {
    const response = await handlers.route(toWebRequest(req));
    await sendWebResponse(res, response ?? new Response(null, { status: 404 }));
  });
  return target(server, tokens);
}

export async function expressTarget(variant: Variant): Promise<ServerTarget> {
  const { default: express } = await import("express");
  const tokens = await memoryTokens();
  const app = express();
  if (variant === "binding") {
    const { createHandlers } = await import("@tokens/http");
    const { tokensRouter } = await import("@tokens/express");
    app.use(tokensRouter(createHandlers(tokens)));
  } else if (variant === "manual") {
    app.post("/token", express.urlencoded({ extended: false }), async (req, res) => {
      const { status, body } = await refreshAnswer(tokens, req.body?.refresh_token);
      res.status(status).set("cache-control", "no-store").json(body);
    });
  } else {
    app.post("/token", (_req, res) => {
      res.set("content-type", "application/json").send(FIXED_BODY);
    });
  }
  return target(createServer(app), variant === "fixed" ? undefined : tokens);
}

export async function fastifyTarget(variant: Variant): Promise<ServerTarget> {
  const { default: Fastify } = await import("fastify");
  const tokens = await memoryTokens();
  const app = Fastify();
  if (variant === "binding") {
    const { createHandlers } = await import("@tokens/http");
    const { tokensPlugin } = await import("@tokens/fastify");
    await app.register(tokensPlugin, { handlers: createHandlers(tokens) });
  } else {
    // Fastify refuses a form body it has no parser for; both routes read it the same way.
    app.addContentTypeParser(
      "application/x-www-form-urlencoded",
      { parseAs: "string" },
      (_req, body, done) => done(null, new URLSearchParams(body as string)),
    );
    app.post("/token", async (request, reply) => {
      if (variant === "fixed") return reply.type("application/json").send(FIXED_BODY);
      const form = request.body as URLSearchParams;
      const { status, body } = await refreshAnswer(tokens, form.get("refresh_token"));
      return reply.code(status).header("cache-control", "no-store").send(body);
    });
  }
  await app.ready();
  return {
    listen: async () => {
      await app.listen({ port: 0, host: "127.0.0.1" });
      return (app.server.address() as AddressInfo).port;
    },
    seed: (count) =>
      variant === "fixed" ? Promise.resolve(Array(count).fill("unused")) : issueMany(tokens, count),
    close: () => app.close(),
  };
}

export async function honoTarget(variant: Variant): Promise<ServerTarget> {
  const { Hono } = await import("hono");
  const { createAdaptorServer } = await import("@hono/node-server");
  const tokens = await memoryTokens();
  let app: InstanceType<typeof Hono>;
  if (variant === "binding") {
    const { createHandlers } = await import("@tokens/http");
    const { tokensApp } = await import("@tokens/hono");
    app = tokensApp(createHandlers(tokens));
  } else {
    app = new Hono();
    app.post("/token", async (c) => {
      if (variant === "fixed")
        return c.body(FIXED_BODY, 200, { "content-type": "application/json" });
      const form = await c.req.parseBody();
      const { status, body } = await refreshAnswer(tokens, form.refresh_token);
      return c.json(body, status as 200, { "cache-control": "no-store" });
    });
  }
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  return target(server, variant === "fixed" ? undefined : tokens);
}
