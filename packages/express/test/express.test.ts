import { createServer } from "node:http";
import { createHandlers, type TokenHandlers } from "@tokens/http";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  listen,
  loginFromUrl,
  memoryTokens,
  runHttpSuite,
  type SuiteServer,
} from "../../http/test/suite.js";
import { issueTokens, requireAuth, tokensRouter } from "../src/index.js";

function app(handlers: TokenHandlers, configure: (app: express.Express) => void = () => {}) {
  const server = express();
  configure(server);
  server.use(tokensRouter(handlers));
  server.post("/login", async (req, res) => {
    const user = loginFromUrl(new URL(req.originalUrl, "http://localhost"));
    if (!user) return void res.status(401).json({ error: "invalid_credentials" });
    await issueTokens(handlers, req, res, user);
  });
  server.get("/api/me", requireAuth(handlers), (req, res) => void res.json({ auth: req.auth }));
  server.get("/api/strict", requireAuth(handlers, { checkSession: true }), (req, res) => {
    res.json({ auth: req.auth });
  });
  return server;
}

runHttpSuite("express", async (handlers) => listen(createServer(app(handlers))));

describe("express: body parsers mounted before the router", () => {
  let server: SuiteServer;

  beforeAll(async () => {
    const tokens = await memoryTokens();
    const handlers = createHandlers(tokens);
    server = await listen(
      createServer(
        app(handlers, (parsers) => {
          parsers.use(express.json());
          parsers.use(express.urlencoded({ extended: false }));
          parsers.use(express.text());
        }),
      ),
    );
  });
  afterAll(() => server?.close());

  async function refreshToken(): Promise<string> {
    const response = await fetch(`${server.url}/login`, { method: "POST" });
    return ((await response.json()) as { refresh_token: string }).refresh_token;
  }

  it("still reads a form body", async () => {
    const response = await fetch(`${server.url}/auth/token/refresh`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: await refreshToken(),
      }),
    });
    expect(response.status).toBe(200);
  });

  it("still reads a JSON body", async () => {
    const response = await fetch(`${server.url}/auth/token/refresh`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refresh_token: await refreshToken() }),
    });
    expect(response.status).toBe(200);
  });

  it("still refuses repeated form parameters", async () => {
    const response = await fetch(`${server.url}/auth/token/refresh`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "grant_type=refresh_token&refresh_token=a&refresh_token=b",
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: "invalid_request" });
  });

  it("still refuses a body type it does not accept", async () => {
    const response = await fetch(`${server.url}/auth/token/refresh`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "refresh_token=x",
    });
    expect(response.status).toBe(415);
  });
});
