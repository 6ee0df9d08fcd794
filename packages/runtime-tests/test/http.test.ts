import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  binaries,
  bundleWorker,
  denoRun,
  fixture,
  type RunningServer,
  requireBuilt,
  startServer,
  startWorkerd,
} from "./runtimes.js";

/**
 * The built @tokens/http handlers (fixtures/http-app.js) served by each runtime's own server,
 * driven over real loopback HTTP: login, refresh by form body, reuse detection, bearer
 * authentication, cookie mode and revocation.
 */
const servers: Array<[string, () => Promise<RunningServer>]> = [
  ["node", () => startServer(binaries.node, [fixture("http-node.js")])],
  ["bun", () => startServer(binaries.bun, ["run", fixture("http-bun.js")])],
  [
    "deno",
    () =>
      startServer(binaries.deno, [...denoRun, "--allow-net=127.0.0.1", fixture("http-deno.js")]),
  ],
  ["workerd", async () => startWorkerd(await bundleWorker(fixture("http-worker.js")))],
];

const ISSUER = "https://auth.example.test";
const FORM = { "content-type": "application/x-www-form-urlencoded" };

describe.each(servers)("@tokens/http served by %s", (runtime, start) => {
  let server: RunningServer | undefined;
  const url = (path: string) => `${server?.url}${path}`;
  const post = (path: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(url(path), {
      method: "POST",
      headers: { ...FORM, ...headers },
      body: new URLSearchParams(form),
    });
  const me = (accessToken: string) =>
    fetch(url("/api/me"), { headers: { authorization: `Bearer ${accessToken}` } });

  beforeAll(async () => {
    requireBuilt(["core", "memory", "http"]);
    server = await start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("publishes the JWKS and the authorization server metadata", async () => {
    const jwks = await fetch(url("/.well-known/jwks.json"));
    expect(jwks.status).toBe(200);
    expect(jwks.headers.get("cache-control")).toBe("public, max-age=300");
    const { keys } = (await jwks.json()) as { keys: Array<Record<string, unknown>> };
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kid: "http-key", kty: "OKP", crv: "Ed25519", alg: "EdDSA" });
    expect(keys[0]).not.toHaveProperty("d");

    const metadata = await fetch(url("/.well-known/oauth-authorization-server"));
    expect(metadata.status).toBe(200);
    expect(await metadata.json()).toMatchObject({
      issuer: ISSUER,
      token_endpoint: `${ISSUER}/auth/token/refresh`,
      revocation_endpoint: `${ISSUER}/auth/token/revoke`,
      jwks_uri: `${ISSUER}/.well-known/jwks.json`,
      grant_types_supported: ["refresh_token"],
    });
  });

  it("rotates on a form-body refresh and revokes the session when a spent token returns", async () => {
    const login = await fetch(url("/login"), { method: "POST" });
    expect(login.status).toBe(200);
    expect(login.headers.get("cache-control")).toContain("no-store");
    const first = (await login.json()) as Record<string, string>;
    expect(first).toMatchObject({ token_type: "Bearer", expires_in: 900 });
    expect(first.refresh_token).toMatch(/^tokens_rt_[A-Za-z0-9_-]{91}$/);

    const identity = await me(first.access_token as string);
    expect(identity.status).toBe(200);
    expect(await identity.json()).toMatchObject({ sub: "alice", runtime });

    const refreshed = await post("/auth/token/refresh", {
      grant_type: "refresh_token",
      refresh_token: first.refresh_token as string,
    });
    expect(refreshed.status).toBe(200);
    const second = (await refreshed.json()) as Record<string, string>;
    expect(second.refresh_token).toMatch(/^tokens_rt_/);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect((await me(second.access_token as string)).status).toBe(200);

    // The spent token again: reuse. The whole session ends, the live token with it.
    const replay = await post("/auth/token/refresh", {
      grant_type: "refresh_token",
      refresh_token: first.refresh_token as string,
    });
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ error: "invalid_grant" });
    const live = await post("/auth/token/refresh", {
      grant_type: "refresh_token",
      refresh_token: second.refresh_token as string,
    });
    expect(live.status).toBe(400);
    expect(await live.json()).toMatchObject({ error: "invalid_grant" });

    const afterReuse = await me(second.access_token as string);
    expect(afterReuse.status).toBe(401);
    expect(afterReuse.headers.get("www-authenticate")).toMatch(/^Bearer .*error="invalid_token"/);
  });

  it("answers bad refresh requests with OAuth errors, not crashes", async () => {
    const wrongGrant = await post("/auth/token/refresh", { grant_type: "password" });
    expect(wrongGrant.status).toBe(400);
    expect(await wrongGrant.json()).toMatchObject({ error: "unsupported_grant_type" });

    const garbage = await post("/auth/token/refresh", {
      grant_type: "refresh_token",
      refresh_token: "tokens_rt_not-a-real-token",
    });
    expect(garbage.status).toBe(400);
    expect(await garbage.json()).toMatchObject({ error: "invalid_grant" });

    const unauthenticated = await fetch(url("/api/me"));
    expect(unauthenticated.status).toBe(401);
  });

  it("keeps the refresh token in an HttpOnly cookie in cookie mode, and logs out", async () => {
    const login = await fetch(url("/login"), {
      method: "POST",
      headers: { "token-transport": "cookie" },
    });
    expect(login.status).toBe(200);
    const body = (await login.json()) as Record<string, unknown>;
    expect(body).toHaveProperty("access_token");
    expect(body).not.toHaveProperty("refresh_token");
    const cookie = refreshCookie(login);
    expect(cookie.attributes).toEqual(
      expect.arrayContaining(["HttpOnly", "Secure", "SameSite=Strict", "Path=/auth"]),
    );

    const fromPage = { cookie: cookie.pair, origin: ISSUER, "token-request": "1" };
    const withoutMarker = await post(
      "/auth/token/refresh",
      { grant_type: "refresh_token" },
      { cookie: cookie.pair, origin: ISSUER },
    );
    expect(withoutMarker.status).toBe(403);

    const refreshed = await post("/auth/token/refresh", { grant_type: "refresh_token" }, fromPage);
    expect(refreshed.status).toBe(200);
    expect(await refreshed.json()).not.toHaveProperty("refresh_token");
    const next = refreshCookie(refreshed);
    expect(next.pair).not.toBe(cookie.pair);

    const logout = await post("/auth/token/revoke", {}, { ...fromPage, cookie: next.pair });
    expect(logout.status).toBe(200);
    expect(refreshCookie(logout).attributes).toContain("Max-Age=0");
    const afterLogout = await post(
      "/auth/token/refresh",
      { grant_type: "refresh_token" },
      { ...fromPage, cookie: next.pair },
    );
    expect(afterLogout.status).toBe(400);
    expect(await afterLogout.json()).toMatchObject({ error: "invalid_grant" });
  });
});

/** The refresh cookie a response sets: `name=value` to send back, and its attributes. */
function refreshCookie(response: Response): { pair: string; attributes: string[] } {
  const header = response.headers
    .getSetCookie()
    .find((value) => value.startsWith("__Secure-tokens_rt="));
  if (header === undefined)
    throw new Error(`no refresh cookie in ${response.headers.getSetCookie()}`);
  const [pair = "", ...attributes] = header.split(";").map((part) => part.trim());
  return { pair, attributes };
}
