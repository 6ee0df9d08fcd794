import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAdaptorServer } from "@hono/node-server";
import { ConfigurationError } from "@tokens/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ConfigError,
  createQuickstart,
  loadConfig,
  loadSigningKeys,
  openStore,
  type Quickstart,
} from "../src/index.js";

type TokenBody = {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token?: string;
};

describe("quickstart server", () => {
  let server: Server;
  let base: string;
  let quickstart: Quickstart;

  beforeAll(async () => {
    // The issuer is the server's own URL, known once it listens: serve through a late binding.
    server = createAdaptorServer({
      fetch: (request, env) => quickstart.app.fetch(request, env),
    }) as Server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    quickstart = await createQuickstart({ issuer: base });
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const login = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
  async function demoLogin(): Promise<Required<TokenBody>> {
    const response = await login({ username: "demo", password: "demo" });
    expect(response.status).toBe(200);
    return (await response.json()) as Required<TokenBody>;
  }
  const bearer = (token: string, init: RequestInit = {}) => ({
    ...init,
    headers: { authorization: `Bearer ${token}` },
  });
  const refresh = (refreshToken: string) =>
    fetch(`${base}/auth/token/refresh`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken }),
    });

  it("logs the demo user in and answers /api/me with the claims", async () => {
    const pair = await demoLogin();
    expect(pair).toMatchObject({ token_type: "Bearer", expires_in: 900 });
    expect(pair.refresh_token).toEqual(expect.any(String));
    const me = await fetch(`${base}/api/me`, bearer(pair.access_token));
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({
      sub: "user_demo",
      name: "Demo User",
      preferred_username: "demo",
      iss: base,
      aud: `${base}/api`,
    });
  });

  it.each([
    ["a wrong password", { username: "demo", password: "nope" }, 401],
    ["an unknown user", { username: "root", password: "demo" }, 401],
    ["missing fields", { username: "demo" }, 400],
  ])("refuses %s", async (_, body, status) => {
    expect((await login(body)).status).toBe(status);
  });

  it("refuses login bodies that are not JSON objects, too large, or of another type", async () => {
    const post = (body: string, type = "application/json") =>
      fetch(`${base}/auth/login`, { method: "POST", headers: { "content-type": type }, body });
    expect((await post("{")).status).toBe(400);
    expect(
      (await post("username=demo&password=demo", "application/x-www-form-urlencoded")).status,
    ).toBe(415);
    expect(
      (await post(JSON.stringify({ username: "x".repeat(20_000), password: "demo" }))).status,
    ).toBe(413);
  });

  it("rotates and revokes refresh tokens", async () => {
    const pair = await demoLogin();
    const rotated = await refresh(pair.refresh_token);
    expect(rotated.status).toBe(200);
    const next = (await rotated.json()) as Required<TokenBody>;
    const revoke = await fetch(`${base}/auth/token/revoke`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: next.refresh_token }),
    });
    expect(revoke.status).toBe(200);
    expect((await refresh(next.refresh_token)).status).toBe(400);
  });

  it("serves discovery metadata and the JWK set", async () => {
    const metadata = await fetch(`${base}/.well-known/oauth-authorization-server`);
    expect(await metadata.json()).toMatchObject({
      issuer: base,
      token_endpoint: `${base}/auth/token/refresh`,
      revocation_endpoint: `${base}/auth/token/revoke`,
      jwks_uri: `${base}/.well-known/jwks.json`,
    });
    const jwks = (await (await fetch(`${base}/.well-known/jwks.json`)).json()) as {
      keys: unknown[];
    };
    expect(jwks.keys).toHaveLength(1);
  });

  it("lists the caller's sessions and revokes only its own", async () => {
    await quickstart.tokens.revokeSubject("user_demo");
    const first = await demoLogin();
    const second = await demoLogin();
    const list = await fetch(`${base}/auth/sessions`, bearer(second.access_token));
    expect(list.status).toBe(200);
    const { sessions } = (await list.json()) as {
      sessions: Array<{ id: string; current: boolean; client: unknown }>;
    };
    expect(sessions).toHaveLength(2);
    expect(sessions.filter((session) => session.current)).toHaveLength(1);
    expect(sessions[0]?.client).toMatchObject({ ip: expect.stringMatching(/127\.0\.0\.1/) });
    const other = sessions.find((session) => !session.current);

    const stranger = await quickstart.tokens.issue({ subject: "someone_else" });
    const foreign = await fetch(
      `${base}/auth/sessions/${stranger.session.id}`,
      bearer(second.access_token, { method: "DELETE" }),
    );
    expect(foreign.status).toBe(404);
    expect(await quickstart.tokens.listSessions("someone_else")).toHaveLength(1);

    const removed = await fetch(
      `${base}/auth/sessions/${other?.id}`,
      bearer(second.access_token, { method: "DELETE" }),
    );
    expect(removed.status).toBe(204);
    expect((await refresh(first.refresh_token)).status).toBe(400);
    // The removed session's access token no longer manages sessions.
    expect((await fetch(`${base}/auth/sessions`, bearer(first.access_token))).status).toBe(401);
  });

  it("logs out everywhere", async () => {
    const first = await demoLogin();
    const second = await demoLogin();
    const response = await fetch(
      `${base}/auth/logout-all`,
      bearer(second.access_token, { method: "POST" }),
    );
    expect(response.status).toBe(200);
    expect(((await response.json()) as { revoked: number }).revoked).toBeGreaterThanOrEqual(2);
    expect((await refresh(first.refresh_token)).status).toBe(400);
    expect((await refresh(second.refresh_token)).status).toBe(400);
    expect((await fetch(`${base}/auth/sessions`, bearer(second.access_token))).status).toBe(401);
  });

  it("requires a bearer token on protected routes", async () => {
    const response = await fetch(`${base}/api/me`);
    expect(response.status).toBe(401);
    // Either scheme: a bearer token, or a DPoP-bound one with a proof (RFC 9449 §7.1).
    expect(response.headers.get("www-authenticate")).toMatch(/^Bearer, DPoP algs="[A-Za-z0-9 ]+"$/);
  });

  it("runs the browser cookie flow: login, refresh, logout", async () => {
    const response = await login(
      { username: "demo", password: "demo" },
      { "token-transport": "cookie" },
    );
    expect(response.status).toBe(200);
    expect(await response.json()).not.toHaveProperty("refresh_token");
    const [setCookie, hint] = response.headers.getSetCookie();
    // An http://127.0.0.1 issuer: development cookie without Secure, still HttpOnly and Strict,
    // sent only to the refresh and revoke endpoints.
    expect(setCookie).toMatch(
      /^tokens_rt=[^;\s]+; Max-Age=(\d+); Path=\/auth\/token; HttpOnly; SameSite=Strict$/,
    );
    const maxAge = /Max-Age=(\d+)/.exec(setCookie as string)?.[1];
    // The page's "a session may exist" companion: readable, no secret, the same lifetime.
    expect(hint).toBe(`tokens_session=1; Max-Age=${maxAge}; Path=/; SameSite=Strict`);
    const cookie = (setCookie as string).split(";")[0] as string;

    const csrf = { "token-request": "1", origin: base, cookie };
    const refreshed = await fetch(`${base}/auth/token/refresh`, { method: "POST", headers: csrf });
    expect(refreshed.status).toBe(200);
    const [rotated, renewedHint] = refreshed.headers.getSetCookie();
    const nextCookie = (rotated as string).split(";")[0] as string;
    expect(nextCookie).not.toBe(cookie);
    expect(renewedHint).toMatch(/^tokens_session=1; Max-Age=\d+; Path=\/; SameSite=Strict$/);

    const forged = await fetch(`${base}/auth/token/refresh`, {
      method: "POST",
      headers: { ...csrf, origin: "https://evil.example", cookie: nextCookie },
    });
    expect(forged.status).toBe(403);

    const logout = await fetch(`${base}/auth/token/revoke`, {
      method: "POST",
      headers: { ...csrf, cookie: nextCookie },
    });
    expect(logout.status).toBe(200);
    const [cleared, clearedHint] = logout.headers.getSetCookie();
    expect(cleared).toMatch(/^tokens_rt=; Max-Age=0;.*Path=\/auth\/token;/);
    expect(clearedHint).toMatch(/^tokens_session=; Max-Age=0;.*Path=\/;/);

    // A refused cookie is deleted, and the hint with it.
    const refused = await fetch(`${base}/auth/token/refresh`, { method: "POST", headers: csrf });
    expect(refused.status).toBe(400);
    expect(refused.headers.getSetCookie()[1]).toMatch(/^tokens_session=; Max-Age=0;/);
  });

  it("sets no session hint in body mode", async () => {
    const response = await login({ username: "demo", password: "demo" });
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it("accepts a logged-out token at /api/me until it expires, unless asked to check the session", async () => {
    const pair = await demoLogin();
    const checked = `${base}/api/me?check=session`;
    expect((await fetch(checked, bearer(pair.access_token))).status).toBe(200);
    const logout = await fetch(`${base}/auth/token/revoke`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: pair.refresh_token }),
    });
    expect(logout.status).toBe(200);
    // Stateless: the signature and expiry still hold.
    expect((await fetch(`${base}/api/me`, bearer(pair.access_token))).status).toBe(200);
    const refused = await fetch(checked, bearer(pair.access_token));
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
  });

  it("serves the demo page under a strict Content-Security-Policy", async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(await page.text()).toContain('<script type="module" src="/app.js">');
    const script = await fetch(`${base}/app.js`);
    expect(script.headers.get("content-type")).toMatch(/^text\/javascript/);
    // @tokens/client is bundled in: its default refresh endpoint is in the script.
    expect(await script.text()).toContain('"/auth/token/refresh"');
    expect((await fetch(`${base}/app.css`)).status).toBe(200);
    const icon = await fetch(`${base}/favicon.svg`);
    expect(icon.headers.get("content-type")).toBe("image/svg+xml");
  });

  it("answers unknown paths with a JSON 404", async () => {
    const response = await fetch(`${base}/nothing-here`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: "not_found" });
  });
});

describe("quickstart configuration", () => {
  it("reads defaults and durations from the environment", () => {
    expect(loadConfig({})).toEqual({
      port: 3000,
      host: undefined,
      issuer: "http://localhost:3000",
      databaseUrl: "file:.data/tokens.db",
      keysFile: ".data/signing-keys.json",
      dpop: { policy: "allowed", requireNonce: false },
    });
    expect(
      loadConfig({
        PORT: "8080",
        ACCESS_TOKEN_TTL: "60",
        REFRESH_IDLE_TTL: "600",
        SESSION_MAX_AGE: "3600",
        REUSE_GRACE: "0",
      }),
    ).toMatchObject({
      issuer: "http://localhost:8080",
      accessTokenTtl: 60,
      refreshIdleTtl: 600,
      sessionMaxAge: 3600,
      reuseGrace: 0,
    });
    expect(loadConfig({ ISSUER: "https://auth.example.com" }).issuer).toBe(
      "https://auth.example.com",
    );
    expect(loadConfig({ DPOP: "required", DPOP_NONCE: "true" }).dpop).toEqual({
      policy: "required",
      requireNonce: true,
    });
  });

  it.each([
    { PORT: "http" },
    { PORT: "70000" },
    { ACCESS_TOKEN_TTL: "15m" },
    { REUSE_GRACE: "-1" },
    { ISSUER: "not a url" },
    { DPOP: "sometimes" },
    { DPOP_NONCE: "yes" },
  ])("refuses %j", (env) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
  });

  it("passes durations to tokens, which checks their ranges", async () => {
    const { tokens } = await createQuickstart({
      issuer: "http://localhost:3000",
      accessTokenTtl: 60,
      reuseGrace: 0,
    });
    expect(tokens.config).toMatchObject({ accessTokenTtl: 60, reuseGrace: 0 });
    await expect(
      createQuickstart({ issuer: "http://localhost:3000", reuseGrace: 100_000 }),
    ).rejects.toThrow(ConfigurationError);
  });

  it("opens the memory store and refuses other schemes clearly", async () => {
    const { store } = await openStore("memory:");
    expect(await store.getSession("none")).toBeNull();
    await expect(openStore("postgres://localhost/db")).rejects.toThrow(/postgres:.*not supported/);
  });

  it("keeps sessions in the embedded SQLite file across restarts", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tokens-quickstart-db-"));
    try {
      const url = `file:${join(dir, "nested", "tokens.db")}`;
      const keys = await loadSigningKeys(join(dir, "keys.json"));
      const first = await openStore(url);
      const before = await createQuickstart({
        issuer: "http://localhost:3000",
        store: first.store,
        keys,
      });
      const pair = await before.tokens.issue({ subject: "demo" });
      await first.close();
      const second = await openStore(url);
      const after = await createQuickstart({
        issuer: "http://localhost:3000",
        store: second.store,
        keys,
      });
      await expect(after.tokens.refresh(pair.refresh_token)).resolves.toMatchObject({
        token_type: "Bearer",
      });
      await second.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  describe("signing keys file", () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "tokens-quickstart-"));
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it("creates an owner-only key file once and reuses it", async () => {
      const file = join(dir, "nested", "keys.json");
      const created = await loadSigningKeys(file);
      expect(created).toHaveLength(1);
      expect(created[0]).toMatchObject({
        alg: "EdDSA",
        kid: expect.any(String),
        d: expect.any(String),
      });
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect(await loadSigningKeys(file)).toEqual(created);
      expect(JSON.parse(await readFile(file, "utf8"))).toEqual(created);
    });

    it("refuses a damaged key file instead of replacing it", async () => {
      const file = join(dir, "broken.json");
      await writeFile(file, "{ not json");
      await expect(loadSigningKeys(file)).rejects.toThrow(ConfigError);
      await writeFile(file, JSON.stringify({ keys: [] }));
      await expect(loadSigningKeys(file)).rejects.toThrow(ConfigError);
    });
  });
});
