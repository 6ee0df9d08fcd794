import { createTokens, generateSigningKey } from "@tokens/core";
import { createHandlers } from "@tokens/http";
import { memoryStore } from "@tokens/memory";
import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { AUDIENCE, ISSUER, loginFromUrl, runHttpSuite } from "../../http/test/suite.js";
import { issueTokens, requireAuth, tokensPlugin } from "../src/index.js";

runHttpSuite("fastify", async (handlers) => {
  const app = Fastify();
  await app.register(tokensPlugin, { handlers });
  app.post("/login", async (request, reply) => {
    const user = loginFromUrl(new URL(request.url, "http://localhost"));
    if (!user) return reply.code(401).send({ error: "invalid_credentials" });
    return issueTokens(handlers, request, reply, user);
  });
  app.get("/api/me", { preHandler: requireAuth(handlers) }, async (request) => ({
    auth: request.auth,
  }));
  app.get(
    "/api/strict",
    { preHandler: requireAuth(handlers, { checkSession: true }) },
    async (request) => ({
      auth: request.auth,
    }),
  );
  const address = await app.listen({ port: 0, host: "127.0.0.1" });
  return { url: address, close: () => app.close() };
});

describe("fastify: plugin encapsulation", () => {
  it("leaves the app's own body parsing untouched", async () => {
    const tokens = createTokens({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: [await generateSigningKey("EdDSA")],
      store: memoryStore(),
    });
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
