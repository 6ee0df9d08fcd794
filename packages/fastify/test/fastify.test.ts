import { createHandlers } from "@tokens/http";
import Fastify, { type FastifyServerOptions } from "fastify";
import { describe, expect, it } from "vitest";
import { loginFromUrl, memoryTokens, runHttpSuite } from "../../http/test/suite.js";
import { issueTokens, requireAuth, tokensPlugin } from "../src/index.js";

runHttpSuite("fastify", async (handlers) => {
  const app = Fastify();
  await app.register(tokensPlugin, { handlers });
  app.post("/login", async (request, reply) => {
    const user = loginFromUrl(new URL(request.url, "http://localhost"));
    if (!user) return reply.code(401).send({ error: "invalid_credentials" });
    return issueTokens(handlers, request, reply, user);
  });
  app.get("/api/me", { onRequest: requireAuth(handlers) }, async (request) => ({
    auth: request.auth,
  }));
  app.get(
    "/api/strict",
    { onRequest: requireAuth(handlers, { checkSession: true }) },
    async (request) => ({
      auth: request.auth,
    }),
  );
  const address = await app.listen({ port: 0, host: "127.0.0.1" });
  return { url: address, close: () => app.close() };
});

describe("fastify: plugin encapsulation", () => {
  it("leaves the app's own body parsing untouched", async () => {
    const tokens = await memoryTokens();
    const app = Fastify();
    await app.register(tokensPlugin, { handlers: createHandlers(tokens) });
    app.post("/echo", async (request) => ({ received: request.body }));
    try {
      const echoed = await app.inject({
        method: "POST",
        url: "/echo",
        payload: { hello: "world" },
      });
      expect(echoed.json()).toEqual({ received: { hello: "world" } });
      const refused = await app.inject({
        method: "POST",
        url: "/echo",
        headers: { "content-type": "text/csv" },
        payload: "a,b",
      });
      expect(refused.statusCode).toBe(415);
    } finally {
      await app.close();
    }
  });
});

describe("fastify: requireAuth on the app's routes", () => {
  it("refuses a request without valid credentials before Fastify's body parsing", async () => {
    const tokens = await memoryTokens();
    const handlers = createHandlers(tokens);
    const app = Fastify();
    await app.register(tokensPlugin, { handlers });
    app.post("/api/notes", { onRequest: requireAuth(handlers) }, async (request) => ({
      sub: request.auth?.sub,
      body: request.body,
    }));
    try {
      const post = (headers: Record<string, string>, payload: string) =>
        app.inject({ method: "POST", url: "/api/notes", headers, payload });
      // Bodies Fastify itself would refuse with 415 or 400 in its own shape.
      for (const [type, payload] of [
        ["text/csv", "a,b"],
        ["application/json", "{"],
        ["(((", "x"],
      ] as const) {
        const missing = await post({ "content-type": type }, payload);
        expect(missing.statusCode).toBe(401);
        expect(missing.headers["www-authenticate"]).toMatch(/^Bearer, DPoP algs="/);
        const invalid = await post(
          { "content-type": type, authorization: "Bearer eyJhbGciOiJFZERTQSJ9.e30.c2ln" },
          payload,
        );
        expect(invalid.statusCode).toBe(401);
        expect(invalid.headers["www-authenticate"]).toMatch(/^Bearer error="invalid_token"/);
        expect(invalid.json()).toMatchObject({ error: "invalid_token" });
      }
      // Authenticated, the route is the app's: Fastify parses (and refuses) bodies its own way.
      const { access_token } = await tokens.issue({ subject: "alice" });
      const authorization = `Bearer ${access_token}`;
      const accepted = await post({ "content-type": "application/json", authorization }, "{}");
      expect(accepted.json()).toEqual({ sub: "alice", body: {} });
      const refused = await post({ "content-type": "text/csv", authorization }, "a,b");
      expect(refused.statusCode).toBe(415);
      expect(refused.json()).toMatchObject({
        statusCode: 415,
        code: "FST_ERR_CTP_INVALID_MEDIA_TYPE",
      });
    } finally {
      await app.close();
    }
  });
});

describe("fastify: methods Fastify does not route", () => {
  const serve = async (options: FastifyServerOptions = {}) => {
    const handlers = createHandlers(await memoryTokens());
    const app = Fastify(options);
    await app.register(tokensPlugin, { handlers });
    app.get("/api/public", async () => ({ ok: true }));
    return { app, handlers };
  };

  it("answers them on every endpoint path with 405 and Allow, like any other wrong method", async () => {
    const { app, handlers } = await serve();
    try {
      for (const endpoint of handlers.endpoints) {
        for (const method of ["PROPFIND", "MKCOL", "PUT"] as const) {
          const answer = await app.inject({ method, url: `${endpoint.path}?x=1` });
          expect(answer.statusCode).toBe(405);
          expect(answer.headers.allow).toBe(endpoint.methods.join(", "));
          expect(answer.headers["cache-control"]).toBe("no-store");
          expect(answer.json()).toEqual({
            error: "invalid_request",
            error_description: "Method not allowed",
          });
        }
      }
    } finally {
      await app.close();
    }
  });

  it("leaves Fastify's 404 on the app's paths and on variants its router does not match", async () => {
    const { app, handlers } = await serve();
    try {
      for (const url of [
        "/api/public",
        "/nowhere",
        `${handlers.paths.refresh}/`,
        "/AUTH/TOKEN/REFRESH",
      ]) {
        const answer = await app.inject({ method: "PROPFIND", url });
        expect(answer.statusCode).toBe(404);
        expect(answer.json()).toMatchObject({ statusCode: 404, error: "Not Found" });
      }
    } finally {
      await app.close();
    }
  });

  it("follows the router's options for the variants it does match", async () => {
    const { app, handlers } = await serve({
      routerOptions: {
        ignoreTrailingSlash: true,
        ignoreDuplicateSlashes: true,
        caseSensitive: false,
      },
    });
    try {
      for (const url of [
        "/AUTH/TOKEN/REFRESH/",
        "/auth//token/refresh?x=1",
        "/auth/token/%72efresh",
      ]) {
        // Fastify itself routes these to the refresh endpoint for the methods it knows.
        expect((await app.inject({ method: "PUT", url })).statusCode).toBe(405);
        const answer = await app.inject({ method: "PROPFIND", url });
        expect(answer.statusCode).toBe(405);
        expect(answer.headers.allow).toBe(handlers.endpoints[0]?.methods.join(", "));
      }
      const encodedSlash = await app.inject({ method: "PROPFIND", url: "/auth%2Ftoken/refresh" });
      expect(encodedSlash.statusCode).toBe(404);
    } finally {
      await app.close();
    }
  });
});
