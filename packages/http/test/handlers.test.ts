import {
  ConfigurationError,
  createTokens,
  generateSigningKey,
  InvalidRequestError,
  type SigningKey,
  type Tokens,
} from "@tokens/core";
import { createHandlers, type HandlersOptions } from "@tokens/http";
import { memoryStore } from "@tokens/memory";
import { parseSetCookie } from "cookie";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "./fixtures/web-app.js";

let key: SigningKey;
beforeAll(async () => {
  key = await generateSigningKey("EdDSA", { kid: "unit" });
});

function tokensFor(issuer = "https://auth.example.test"): Tokens {
  return createTokens({ issuer, audience: "api", keys: [key], store: memoryStore() });
}

const post = (path: string, init: RequestInit = {}) =>
  new Request(`https://auth.example.test${path}`, { method: "POST", ...init });

describe("configuration", () => {
  it.each<[string, HandlersOptions]>([
    ["a relative base path", { basePath: "auth" }],
    ["a trailing slash", { basePath: "/auth/" }],
    ["route syntax in a path", { paths: { refresh: "/auth/:token" } }],
    ["two endpoints on one path", { paths: { jwks: "/keys", metadata: "/keys" } }],
    ["a refresh endpoint outside the cookie path", { cookie: true, paths: { refresh: "/token" } }],
    ["a __Host- cookie on a sub-path", { cookie: { name: "__Host-rt" } }],
    ["a cookie path without the revoke endpoint", { cookie: { path: "/auth/token/refresh" } }],
    ["a relative cookie path", { cookie: { path: "auth" } }],
    [
      "a __Host- cookie on a narrowed path",
      { basePath: "/", cookie: { name: "__Host-rt", path: "/token" } },
    ],
    ["an invalid cookie name", { cookie: { name: "rt;x" } }],
    [
      "an allowed origin with a path",
      { cookie: { allowedOrigins: ["https://app.example.test/"] } },
    ],
    ["an insecure cookie on a public issuer", { cookie: { allowInsecureLocalhost: true } }],
    ["a negative body cap", { maxBodyBytes: -1 }],
    ["an invalid base URL", { baseUrl: "not a url" }],
  ])("refuses %s", (_, options) => {
    expect(() => createHandlers(tokensFor(), options)).toThrow(ConfigurationError);
  });

  it("accepts a __Host- cookie when the base path is the root", () => {
    const handlers = createHandlers(tokensFor(), { basePath: "/", cookie: { name: "__Host-rt" } });
    expect(handlers.cookie).toEqual({ name: "__Host-rt", path: "/" });
    expect(handlers.paths.refresh).toBe("/token/refresh");
  });

  it("narrows the cookie to the refresh and revoke endpoints with cookie.path", async () => {
    const handlers = createHandlers(tokensFor(), { cookie: { path: "/auth/token" } });
    expect(handlers.cookie).toEqual({ name: "__Secure-tokens_rt", path: "/auth/token" });
    const login = await handlers.issue(
      post("/auth/login", { headers: { "token-transport": "cookie" } }),
      { subject: "narrow" },
    );
    const [header] = login.headers.getSetCookie();
    expect(parseSetCookie(header as string)).toMatchObject({ path: "/auth/token" });
    const cookie = (header as string).split(";")[0] as string;
    const refreshed = await handlers.refresh(
      post("/auth/token/refresh", {
        headers: { cookie, "token-request": "1", origin: "https://auth.example.test" },
      }),
    );
    expect(refreshed.status).toBe(200);
    expect(parseSetCookie(refreshed.headers.getSetCookie()[0] as string)).toMatchObject({
      path: "/auth/token",
    });
    const loggedOut = handlers.logoutResponse();
    expect(parseSetCookie(loggedOut.headers.getSetCookie()[0] as string)).toMatchObject({
      path: "/auth/token",
      maxAge: 0,
    });
  });

  it("relaxes Secure and the prefix only for an http://localhost issuer when asked", async () => {
    const tokens = tokensFor("http://localhost:3000");
    const handlers = createHandlers(tokens, { cookie: { allowInsecureLocalhost: true } });
    expect(handlers.cookie?.name).toBe("tokens_rt");
    const response = await handlers.issue(
      new Request("http://localhost:3000/auth/login", { headers: { "token-transport": "cookie" } }),
      { subject: "dev" },
    );
    const [header] = response.headers.getSetCookie();
    expect(header).toBeDefined();
    expect(parseSetCookie(header as string)).toMatchObject({
      name: "tokens_rt",
      httpOnly: true,
      path: "/auth",
    });
    expect(header).not.toMatch(/secure/i);
    // Without the option the cookie stays Secure, even for localhost.
    expect(createHandlers(tokens, { cookie: true }).cookie?.name).toBe("__Secure-tokens_rt");
  });

  it("places metadata after the issuer's path (RFC 8414 §3.1) and uses baseUrl for endpoints", async () => {
    const handlers = createHandlers(tokensFor("https://example.test/tenant-a"), {
      baseUrl: "https://edge.example.test",
      metadata: { service_documentation: "https://example.test/docs" },
    });
    expect(handlers.paths.metadata).toBe("/.well-known/oauth-authorization-server/tenant-a");
    const response = await handlers.route(
      new Request("https://edge.example.test/.well-known/oauth-authorization-server/tenant-a"),
    );
    expect(await response?.json()).toMatchObject({
      issuer: "https://example.test/tenant-a",
      token_endpoint: "https://edge.example.test/auth/token/refresh",
      service_documentation: "https://example.test/docs",
    });
  });

  it("routes only its own paths", async () => {
    const handlers = createHandlers(tokensFor());
    expect(
      await handlers.route(new Request("https://auth.example.test/auth/login")),
    ).toBeUndefined();
    expect(handlers.match("/auth/token/revoke")?.methods).toEqual(["POST", "OPTIONS"]);
  });
});

describe("client context", () => {
  it("reads the user agent and device id, and the IP from getClientIp before the binding's", () => {
    const request = post("/x", {
      headers: {
        "user-agent": `Agent/${"x".repeat(600)}`,
        "token-device-id": " phone-1 ",
        "x-real-ip": "192.0.2.7",
      },
    });
    const fromOption = createHandlers(tokensFor(), {
      getClientIp: (r) => r.headers.get("x-real-ip") ?? undefined,
    });
    const context = fromOption.clientContext(request, { ip: "10.0.0.1" });
    expect(context).toEqual({
      userAgent: expect.any(String),
      deviceId: "phone-1",
      ip: "192.0.2.7",
    });
    expect(context.userAgent).toHaveLength(512);
    expect(createHandlers(tokensFor()).clientContext(request, { ip: "10.0.0.1" }).ip).toBe(
      "10.0.0.1",
    );
    expect(createHandlers(tokensFor()).clientContext(post("/x"))).toEqual({});
  });

  it("binds the session to the device id header (core's default binding)", async () => {
    const handlers = createHandlers(tokensFor());
    const issued = await handlers.issue(
      post("/login", { headers: { "token-device-id": "phone-1" } }),
      {
        subject: "u",
      },
    );
    const { refresh_token } = (await issued.json()) as { refresh_token: string };
    const refresh = (device: string) =>
      handlers.refresh(
        post("/auth/token/refresh", {
          headers: { "content-type": "application/json", "token-device-id": device },
          body: JSON.stringify({ refresh_token }),
        }),
      );
    const other = await refresh("laptop-9");
    expect(other.status).toBe(400);
    expect(await other.json()).toMatchObject({ error: "invalid_grant" });
    expect((await refresh("phone-1")).status).toBe(200);
  });
});

describe("DPoP requests", () => {
  const request = new Request("http://10.0.0.7:8080/api/me?x=1", {
    method: "PATCH",
    headers: { dpop: "proof.jws.value" },
  });

  it("take the proof, the method and the request's URL", () => {
    expect(createHandlers(tokensFor()).dpopRequest(request)).toEqual({
      proof: "proof.jws.value",
      method: "PATCH",
      url: "http://10.0.0.7:8080/api/me?x=1",
    });
  });

  it("take the public origin from baseUrl, keeping the request's path", () => {
    const handlers = createHandlers(tokensFor(), { baseUrl: "https://api.example.test/ignored" });
    expect(handlers.dpopRequest(request).url).toBe("https://api.example.test/api/me");
  });
});

describe("answers", () => {
  it("builds a logout answer that deletes the cookie", async () => {
    const handlers = createHandlers(tokensFor(), { cookie: true });
    const empty = handlers.logoutResponse();
    expect(empty.status).toBe(204);
    expect(parseSetCookie(empty.headers.getSetCookie()[0] as string)).toMatchObject({
      name: "__Secure-tokens_rt",
      value: "",
      maxAge: 0,
    });
    const withBody = handlers.logoutResponse({ revoked: 3 }, { headers: { "x-extra": "1" } });
    expect(withBody.status).toBe(200);
    expect(withBody.headers.get("x-extra")).toBe("1");
    expect(withBody.headers.get("cache-control")).toBe("no-store");
    expect(await withBody.json()).toEqual({ revoked: 3 });
    expect(createHandlers(tokensFor()).logoutResponse().headers.getSetCookie()).toEqual([]);
  });

  it("answers an already issued pair by the request's transport", async () => {
    const tokens = tokensFor();
    const handlers = createHandlers(tokens, { cookie: true });
    const pair = await tokens.issue({ subject: "u" });
    const cookie = handlers.issueResponse(
      { headers: new Headers({ "token-transport": "cookie" }) },
      pair,
    );
    expect(await cookie.json()).not.toHaveProperty("refresh_token");
    expect(cookie.headers.getSetCookie()).toHaveLength(1);
    const body = handlers.issueResponse({ headers: new Headers() }, pair);
    expect(await body.json()).toMatchObject({ refresh_token: pair.refresh_token });
  });

  it("refuses cookie transport when cookie mode is off", async () => {
    const handlers = createHandlers(tokensFor());
    const response = await handlers.issue(post("/login"), { subject: "u", transport: "cookie" });
    expect(response.status).toBe(400);
  });

  it("lets the app's own mistakes reach the app", async () => {
    const handlers = createHandlers(tokensFor());
    await expect(
      handlers.issue(post("/login"), { subject: "u", claims: { sub: "other" } }),
    ).rejects.toThrow(InvalidRequestError);
  });

  it("answers a server fault with a generic 500 and reports it", async () => {
    const reported: unknown[] = [];
    const tokens = tokensFor();
    const failing: Tokens = { ...tokens, jwks: () => Promise.reject(new Error("disk on fire")) };
    const handlers = createHandlers(failing, { onError: (error) => reported.push(error) });
    const response = await handlers.jwks(
      new Request("https://auth.example.test/.well-known/jwks.json"),
    );
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).not.toContain("disk on fire");
    expect(JSON.parse(text)).toEqual({
      error: "server_error",
      error_description: "Internal server error",
    });
    expect(reported).toEqual([expect.objectContaining({ message: "disk on fire" })]);
  });

  it("keeps error descriptions to the RFC 6749 character set", async () => {
    const handlers = createHandlers(tokensFor());
    const response = await handlers.refresh(
      post("/auth/token/refresh", {
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ refresh_token: 'tokens_rt_"\\\n' }),
      }),
    );
    expect(response.status).toBe(400);
    const { error_description } = (await response.json()) as { error_description: string };
    expect(error_description).toMatch(/^[\x20\x21\x23-\x5b\x5d-\x7e]+$/);
  });

  it("reads a body sent without Content-Length up to the cap", async () => {
    const handlers = createHandlers(tokensFor(), { maxBodyBytes: 64 });
    const stream = (text: string) =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(text));
          controller.close();
        },
      });
    const request = (text: string) =>
      post("/auth/token/refresh", {
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: stream(text),
        duplex: "half",
      } as RequestInit);
    expect(
      (await handlers.refresh(request("grant_type=refresh_token&refresh_token=abc"))).status,
    ).toBe(400);
    expect(
      (await handlers.refresh(request(`grant_type=refresh_token&refresh_token=${"a".repeat(64)}`)))
        .status,
    ).toBe(413);
  });

  it("refuses a body that is not UTF-8", async () => {
    const handlers = createHandlers(tokensFor());
    const response = await handlers.refresh(
      post("/auth/token/refresh", {
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new Uint8Array([0x67, 0x72, 0xff, 0xfe]),
      }),
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: "invalid_request" });
  });
});

describe("as a fetch handler, without any server (Bun, Deno, workers)", () => {
  it("serves the endpoints, the login and a protected route from web Requests alone", async () => {
    const app = createApp(createHandlers(tokensFor()), async () => ({ subject: "edge-user" }));
    const origin = "https://auth.example.test";
    const login = await app(new Request(`${origin}/login`, { method: "POST" }));
    const { access_token, refresh_token } = (await login.json()) as Record<string, string>;
    const me = await app(
      new Request(`${origin}/api/me`, { headers: { authorization: `Bearer ${access_token}` } }),
    );
    expect(await me.json()).toMatchObject({ auth: { sub: "edge-user" } });
    const refreshed = await app(
      post("/auth/token/refresh", {
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "refresh_token",
          refresh_token: refresh_token as string,
        }),
      }),
    );
    expect(refreshed.status).toBe(200);
    expect((await app(new Request(`${origin}/elsewhere`))).status).toBe(404);
  });
});
