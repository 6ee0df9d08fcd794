/*
 * The HTTP behaviour every binding must show, run against a real server on 127.0.0.1 with real
 * fetch. A binding's test calls `runHttpSuite` with a function that serves, for the handlers it
 * is given:
 *   - the token endpoints at `handlers.paths` (its router/plugin/sub-app);
 *   - `POST /login`: issue tokens (its login helper) with `loginFromUrl(url)`, 401 when undefined;
 *   - `GET /api/me`: its `requireAuth`, answering `{ auth: <claims from the framework idiom> }`;
 *   - `GET /api/strict`: the same with `{ checkSession: true }`.
 */
import { type AddressInfo, connect } from "node:net";
import {
  createTokens,
  generateSigningKey,
  StoreUnavailableError,
  type TokenStore,
  type Tokens,
} from "@tokens/core";
import { type DpopTestKey, dpopKey, dpopProof, unknownRefreshToken } from "@tokens/core/testing";
import { createHandlers, type IssueRequestOptions, type TokenHandlers } from "@tokens/http";
import { memoryStore } from "@tokens/memory";
import { parseSetCookie } from "cookie";
import { decodeJwt } from "jose";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

export interface SuiteServer {
  /** Origin of the running server, e.g. `http://127.0.0.1:43121`. */
  url: string;
  close(): Promise<void>;
}

export const ISSUER = "https://auth.example.test";
export const AUDIENCE = "https://api.example.test";
export const APP_ORIGIN = "https://app.example.test";

/** The test login rule: `?sub=` names the subject, `?client_id=` the client; `sub=nobody` is refused. */
export function loginFromUrl(url: URL): IssueRequestOptions | undefined {
  const subject = url.searchParams.get("sub") ?? "alice";
  if (subject === "nobody") return undefined;
  const clientId = url.searchParams.get("client_id");
  return { subject, ...(clientId ? { clientId } : {}), claims: { role: "tester" } };
}

/** The `cnf.jkt` of an access token (RFC 9449 §6.1), read without verifying it. */
export function boundKey(accessToken: string): string | undefined {
  return (decodeJwt(accessToken).cnf as { jkt?: string } | undefined)?.jkt;
}

/** Starts a node `http.Server` on an ephemeral port and gives back its URL and closer. */
export async function listen(server: import("node:http").Server): Promise<SuiteServer> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** A tokens instance for a test of its own: the suite's issuer and audience, a fresh key, memory. */
export async function memoryTokens(): Promise<Tokens> {
  return createTokens({
    issuer: ISSUER,
    audience: AUDIENCE,
    keys: [await generateSigningKey("EdDSA")],
    store: memoryStore(),
  });
}

/** A memory store that throws `StoreUnavailableError` while `down` is set: a database outage. */
export function switchableStore(inner: TokenStore): {
  store: TokenStore;
  state: { down: boolean };
} {
  const state = { down: false };
  const guard =
    <A extends unknown[], R>(method: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (state.down) throw new StoreUnavailableError("The test store is down");
      return method(...args);
    };
  const store: TokenStore = {
    createSession: guard(inner.createSession.bind(inner)),
    rotate: guard(inner.rotate.bind(inner)),
    getSession: guard(inner.getSession.bind(inner)),
    listSessions: guard(inner.listSessions.bind(inner)),
    revokeSession: guard(inner.revokeSession.bind(inner)),
    revokeSubject: guard(inner.revokeSubject.bind(inner)),
    purge: guard(inner.purge.bind(inner)),
  };
  return { store, state };
}

const FORM = { "content-type": "application/x-www-form-urlencoded" };
const JSON_HEADERS = { "content-type": "application/json" };
const CSRF = { "token-request": "1", origin: APP_ORIGIN };

function cookieOf(response: Response) {
  const cookies = response.headers.getSetCookie().map((header) => ({
    header,
    ...parseSetCookie(header),
  }));
  expect(cookies).toHaveLength(1);
  return cookies[0] as NonNullable<(typeof cookies)[0]>;
}

export function runHttpSuite(
  binding: string,
  serve: (handlers: TokenHandlers) => Promise<SuiteServer>,
) {
  describe(`${binding}: HTTP surface`, () => {
    let server: SuiteServer;
    let tokens: Tokens;
    let handlers: TokenHandlers;
    let outage: { down: boolean };
    const reported: unknown[] = [];

    beforeAll(async () => {
      const switchable = switchableStore(memoryStore());
      outage = switchable.state;
      tokens = createTokens({
        issuer: ISSUER,
        audience: AUDIENCE,
        keys: [await generateSigningKey("EdDSA", { kid: "suite-key" })],
        store: switchable.store,
      });
      handlers = createHandlers(tokens, {
        cookie: { allowedOrigins: [APP_ORIGIN] },
        onError: (error) => {
          reported.push(error);
          throw new Error("a handler reported an unexpected error", { cause: error });
        },
      });
      server = await serve(handlers);
    });
    afterAll(async () => {
      await server?.close();
    });
    beforeEach(() => {
      outage.down = false;
    });
    afterEach(() => {
      // No test here involves a fault of the server: nothing may reach onError.
      expect(reported.splice(0)).toEqual([]);
    });

    const url = (path: string) => `${server.url}${path}`;
    const post = (path: string, init: RequestInit = {}) =>
      fetch(url(path), { method: "POST", ...init });
    const refreshForm = (params: Record<string, string>, headers: HeadersInit = {}) =>
      post(handlers.paths.refresh, {
        headers: { ...FORM, ...headers },
        body: new URLSearchParams(params).toString(),
      });
    const refreshWith = (refreshToken: string) =>
      refreshForm({ grant_type: "refresh_token", refresh_token: refreshToken });

    async function login(query = "", headers: HeadersInit = {}) {
      const response = await post(`/login${query}`, { headers });
      expect(response.status).toBe(200);
      return {
        response,
        body: (await response.json()) as {
          access_token: string;
          token_type: string;
          expires_in: number;
          refresh_token?: string;
        },
      };
    }
    async function bodyLogin(query = "") {
      const { body } = await login(query);
      expect(body.refresh_token).toMatch(/^tokens_rt_/);
      return { accessToken: body.access_token, refreshToken: body.refresh_token as string };
    }
    async function cookieLogin() {
      const { response, body } = await login("", { "token-transport": "cookie" });
      expect(body).not.toHaveProperty("refresh_token");
      return { cookie: cookieOf(response), accessToken: body.access_token };
    }
    const cookieHeader = (cookie: { name: string; value?: string | undefined }) => ({
      cookie: `${cookie.name}=${cookie.value}`,
    });

    describe("discovery", () => {
      it("serves RFC 8414 metadata, cacheable", async () => {
        const response = await fetch(url("/.well-known/oauth-authorization-server"));
        expect(response.status).toBe(200);
        expect(response.headers.get("content-type")).toMatch(/^application\/json/);
        expect(response.headers.get("cache-control")).toBe("public, max-age=300");
        expect(await response.json()).toMatchObject({
          issuer: ISSUER,
          token_endpoint: `${ISSUER}/auth/token/refresh`,
          revocation_endpoint: `${ISSUER}/auth/token/revoke`,
          jwks_uri: `${ISSUER}/.well-known/jwks.json`,
          grant_types_supported: ["refresh_token"],
          token_endpoint_auth_methods_supported: ["none"],
          revocation_endpoint_auth_methods_supported: ["none"],
        });
      });

      it("serves the public JWK set without private parts", async () => {
        const response = await fetch(url("/.well-known/jwks.json"));
        expect(response.status).toBe(200);
        expect(response.headers.get("cache-control")).toBe("public, max-age=300");
        const { keys } = (await response.json()) as { keys: Array<Record<string, unknown>> };
        expect(keys).toHaveLength(1);
        expect(keys[0]).toMatchObject({ kid: "suite-key", kty: "OKP", crv: "Ed25519" });
        expect(keys[0]).not.toHaveProperty("d");
      });

      it("answers HEAD on the JWK set with headers only", async () => {
        const response = await fetch(url("/.well-known/jwks.json"), { method: "HEAD" });
        expect(response.status).toBe(200);
        expect(response.headers.get("cache-control")).toBe("public, max-age=300");
        expect(await response.text()).toBe("");
      });

      it("refuses other methods with 405 and Allow", async () => {
        const response = await post("/.well-known/jwks.json", { body: "" });
        expect(response.status).toBe(405);
        expect(response.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
        expect(await response.json()).toMatchObject({ error: "invalid_request" });
      });

      it("answers OPTIONS with the allowed methods", async () => {
        const response = await fetch(url(handlers.paths.refresh), { method: "OPTIONS" });
        expect(response.status).toBe(204);
        expect(response.headers.get("allow")).toBe("POST, OPTIONS");
      });

      it("leaves other paths to the app", async () => {
        const response = await fetch(url("/auth/token/elsewhere"));
        expect(response.status).toBe(404);
      });
    });

    describe("refresh grant", () => {
      it("rotates a form-posted refresh token (RFC 6749 §6, §5.1)", async () => {
        const { refreshToken } = await bodyLogin();
        const response = await refreshWith(refreshToken);
        expect(response.status).toBe(200);
        expect(response.headers.get("cache-control")).toBe("no-store");
        expect(response.headers.get("pragma")).toBe("no-cache");
        expect(response.headers.get("content-type")).toMatch(/^application\/json/);
        expect(response.headers.get("x-content-type-options")).toBe("nosniff");
        const body = (await response.json()) as Record<string, unknown>;
        expect(body).toEqual({
          access_token: expect.any(String),
          token_type: "Bearer",
          expires_in: 900,
          refresh_token: expect.stringMatching(/^tokens_rt_/),
        });
        expect(body.refresh_token).not.toBe(refreshToken);
      });

      it("accepts a JSON body", async () => {
        const { refreshToken } = await bodyLogin();
        const response = await post(handlers.paths.refresh, {
          headers: JSON_HEADERS,
          body: JSON.stringify({ refresh_token: refreshToken }),
        });
        expect(response.status).toBe(200);
        expect(await response.json()).toHaveProperty("refresh_token");
      });

      it("refuses GET with 405 and Allow", async () => {
        const response = await fetch(url(handlers.paths.refresh));
        expect(response.status).toBe(405);
        expect(response.headers.get("allow")).toBe("POST, OPTIONS");
      });

      it("requires grant_type in a form body", async () => {
        const { refreshToken } = await bodyLogin();
        const response = await refreshForm({ refresh_token: refreshToken });
        expect(response.status).toBe(400);
        expect(await response.json()).toMatchObject({ error: "invalid_request" });
      });

      it("refuses other grant types with unsupported_grant_type", async () => {
        const response = await refreshForm({
          grant_type: "password",
          username: "a",
          password: "b",
        });
        expect(response.status).toBe(400);
        expect(response.headers.get("cache-control")).toBe("no-store");
        expect(response.headers.get("x-content-type-options")).toBe("nosniff");
        expect(await response.json()).toEqual({
          error: "unsupported_grant_type",
          error_description: expect.any(String),
        });
      });

      it("requires a refresh token", async () => {
        const response = await refreshForm({ grant_type: "refresh_token" });
        expect(response.status).toBe(400);
        expect(await response.json()).toMatchObject({ error: "invalid_request" });
      });

      it("refuses an unknown refresh token with invalid_grant", async () => {
        const response = await refreshWith(unknownRefreshToken());
        expect(response.status).toBe(400);
        expect(await response.json()).toMatchObject({ error: "invalid_grant" });
      });

      it("refuses a malformed refresh token with a 400, not a 500", async () => {
        const response = await refreshWith("not a token");
        expect(response.status).toBe(400);
        expect(["invalid_grant", "invalid_request"]).toContain(
          ((await response.json()) as { error: string }).error,
        );
      });

      it("refuses repeated parameters", async () => {
        const response = await post(handlers.paths.refresh, {
          headers: FORM,
          body: "grant_type=refresh_token&refresh_token=a&refresh_token=b",
        });
        expect(response.status).toBe(400);
        expect(await response.json()).toMatchObject({ error: "invalid_request" });
      });

      it("refuses unsupported content types with 415", async () => {
        const response = await post(handlers.paths.refresh, {
          headers: { "content-type": "text/plain" },
          body: "refresh_token=x",
        });
        expect(response.status).toBe(415);
        expect(await response.json()).toMatchObject({ error: "invalid_request" });
      });

      it.each([
        ["invalid JSON", "{"],
        ["a JSON array", "[]"],
        ["a non-string token", '{"refresh_token": 42}'],
      ])("refuses %s with invalid_request", async (_, body) => {
        const response = await post(handlers.paths.refresh, { headers: JSON_HEADERS, body });
        expect(response.status).toBe(400);
        expect(await response.json()).toMatchObject({ error: "invalid_request" });
      });

      it("refuses a declared oversized body with 413", async () => {
        const response = await refreshForm({
          grant_type: "refresh_token",
          refresh_token: "x".repeat(17_000),
        });
        expect(response.status).toBe(413);
        expect(await response.json()).toMatchObject({ error: "invalid_request" });
      });

      it("stops reading a streamed oversized body at the cap with 413", async () => {
        const chunk = new TextEncoder().encode(
          `grant_type=refresh_token&refresh_token=${"x".repeat(4_000)}`,
        );
        let sent = 0;
        const body = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (sent >= 5) return controller.close();
            sent += 1;
            controller.enqueue(chunk);
          },
        });
        const response = await post(handlers.paths.refresh, {
          headers: FORM,
          body,
          duplex: "half",
        } as RequestInit);
        expect(response.status).toBe(413);
      });

      it("detects reuse of a spent refresh token and ends the session", async () => {
        const { refreshToken: first } = await bodyLogin();
        const second = ((await (await refreshWith(first)).json()) as { refresh_token: string })
          .refresh_token;
        const third = ((await (await refreshWith(second)).json()) as { refresh_token: string })
          .refresh_token;
        const reused = await refreshWith(first);
        expect(reused.status).toBe(400);
        expect(await reused.json()).toMatchObject({ error: "invalid_grant" });
        const afterReuse = await refreshWith(third);
        expect(afterReuse.status).toBe(400);
        expect(await afterReuse.json()).toMatchObject({ error: "invalid_grant" });
      });

      it("answers a replay within the grace window with the same successor", async () => {
        const { refreshToken } = await bodyLogin();
        const first = (await (await refreshWith(refreshToken)).json()) as { refresh_token: string };
        const replay = await refreshWith(refreshToken);
        expect(replay.status).toBe(200);
        expect(((await replay.json()) as { refresh_token: string }).refresh_token).toBe(
          first.refresh_token,
        );
      });

      it("checks client_id against the session's (RFC 6749 §6)", async () => {
        const { refreshToken } = await bodyLogin("?client_id=mobile");
        const other = await refreshForm({
          grant_type: "refresh_token",
          refresh_token: refreshToken,
          client_id: "web",
        });
        expect(other.status).toBe(400);
        expect(await other.json()).toMatchObject({ error: "invalid_grant" });
        const same = await refreshForm({
          grant_type: "refresh_token",
          refresh_token: refreshToken,
          client_id: "mobile",
        });
        expect(same.status).toBe(200);
      });

      it("answers 503 temporarily_unavailable with Retry-After while the store is down", async () => {
        const { refreshToken } = await bodyLogin();
        outage.down = true;
        const response = await refreshWith(refreshToken);
        expect(response.status).toBe(503);
        expect(response.headers.get("retry-after")).toBe("5");
        expect(await response.json()).toMatchObject({ error: "temporarily_unavailable" });
        outage.down = false;
        expect((await refreshWith(refreshToken)).status).toBe(200);
      });
    });

    describe("revocation (RFC 7009)", () => {
      it("revokes a refresh token's session", async () => {
        const { refreshToken } = await bodyLogin();
        const response = await post(handlers.paths.revoke, {
          headers: FORM,
          body: new URLSearchParams({
            token: refreshToken,
            token_type_hint: "refresh_token",
          }).toString(),
        });
        expect(response.status).toBe(200);
        expect(response.headers.get("cache-control")).toBe("no-store");
        expect((await refreshWith(refreshToken)).status).toBe(400);
      });

      it("answers 200 for an unknown token", async () => {
        const response = await post(handlers.paths.revoke, {
          headers: FORM,
          body: `token=${unknownRefreshToken()}`,
        });
        expect(response.status).toBe(200);
      });

      it("ends the session of a revoked access token", async () => {
        const { accessToken, refreshToken } = await bodyLogin();
        const response = await post(handlers.paths.revoke, {
          headers: JSON_HEADERS,
          body: JSON.stringify({ token: accessToken, token_type_hint: "access_token" }),
        });
        expect(response.status).toBe(200);
        expect((await refreshWith(refreshToken)).status).toBe(400);
      });

      it("requires the token parameter", async () => {
        const response = await post(handlers.paths.revoke, {
          headers: FORM,
          body: "token_type_hint=refresh_token",
        });
        expect(response.status).toBe(400);
        expect(await response.json()).toMatchObject({ error: "invalid_request" });
      });

      it("refuses GET with 405", async () => {
        const response = await fetch(url(handlers.paths.revoke));
        expect(response.status).toBe(405);
        expect(response.headers.get("allow")).toBe("POST, OPTIONS");
      });

      it("answers 503 while the store is down", async () => {
        const { refreshToken } = await bodyLogin();
        outage.down = true;
        const response = await post(handlers.paths.revoke, {
          headers: FORM,
          body: `token=${refreshToken}`,
        });
        expect(response.status).toBe(503);
        expect(response.headers.get("retry-after")).toBe("5");
      });
    });

    describe("bearer authentication (RFC 6750)", () => {
      const me = (authorization?: string, path = "/api/me") =>
        fetch(url(path), authorization === undefined ? {} : { headers: { authorization } });

      it("attaches the verified claims", async () => {
        const { accessToken } = await bodyLogin("?sub=bob");
        const response = await me(`Bearer ${accessToken}`);
        expect(response.status).toBe(200);
        const { auth } = (await response.json()) as { auth: Record<string, unknown> };
        expect(auth).toMatchObject({
          sub: "bob",
          iss: ISSUER,
          role: "tester",
          client_id: "default",
        });
        expect(auth.sid).toEqual(expect.any(String));
      });

      it("accepts the scheme in any case", async () => {
        const { accessToken } = await bodyLogin();
        expect((await me(`bearer ${accessToken}`)).status).toBe(200);
      });

      it("challenges a request without credentials with both schemes, without an error", async () => {
        const response = await me();
        expect(response.status).toBe(401);
        expect(response.headers.get("www-authenticate")).toBe(
          `Bearer, DPoP algs="${tokens.config.dpop.algorithms.join(" ")}"`,
        );
      });

      it("treats another scheme as no credentials", async () => {
        const response = await me("Basic dXNlcjpwYXNz");
        expect(response.status).toBe(401);
        expect(response.headers.get("www-authenticate")).toMatch(/^Bearer, DPoP algs="/);
      });

      it.each(["Bearer", "Bearer a b", "Bearer a,b"])(
        "answers %j with 400 invalid_request",
        async (header) => {
          const response = await me(header);
          expect(response.status).toBe(400);
          expect(response.headers.get("www-authenticate")).toMatch(
            /^Bearer error="invalid_request"/,
          );
        },
      );

      it("challenges an invalid token with error=invalid_token", async () => {
        const response = await me("Bearer eyJhbGciOiJFZERTQSJ9.e30.c2ln");
        expect(response.status).toBe(401);
        expect(response.headers.get("www-authenticate")).toMatch(
          /^Bearer error="invalid_token", error_description="[^"\\]+"$/,
        );
        expect(await response.json()).toMatchObject({ error: "invalid_token" });
      });

      it("rejects a revoked session's token only when checking sessions", async () => {
        const { accessToken, refreshToken } = await bodyLogin();
        await post(handlers.paths.revoke, { headers: FORM, body: `token=${refreshToken}` });
        expect((await me(`Bearer ${accessToken}`)).status).toBe(200);
        const strict = await me(`Bearer ${accessToken}`, "/api/strict");
        expect(strict.status).toBe(401);
        expect(strict.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
      });

      it("answers 503 when the session check cannot reach the store", async () => {
        const { accessToken } = await bodyLogin();
        outage.down = true;
        const response = await me(`Bearer ${accessToken}`, "/api/strict");
        expect(response.status).toBe(503);
        expect(await response.json()).toMatchObject({ error: "temporarily_unavailable" });
      });
    });

    describe("DPoP (RFC 9449)", () => {
      let key: DpopTestKey;
      let otherKey: DpopTestKey;
      beforeAll(async () => {
        [key, otherKey] = await Promise.all([dpopKey(), dpopKey()]);
      });
      const algs = () => `algs="${tokens.config.dpop.algorithms.join(" ")}"`;
      const refreshProof = (with_ = key) =>
        dpopProof(with_, { htm: "POST", htu: url(handlers.paths.refresh) });
      const refreshBound = async (refreshToken: string, dpop?: string, headers = {}) =>
        refreshForm(
          { grant_type: "refresh_token", refresh_token: refreshToken },
          { ...headers, ...(dpop === undefined ? {} : { dpop }) },
        );
      async function boundLogin(headers: Record<string, string> = {}) {
        const dpop = await dpopProof(key, { htm: "POST", htu: url("/login") });
        const { response, body } = await login("", { ...headers, dpop });
        expect(body.token_type).toBe("DPoP");
        expect(boundKey(body.access_token)).toBe(key.jkt);
        return { response, accessToken: body.access_token, refreshToken: body.refresh_token };
      }
      async function expectProofRefused(response: Response) {
        expect(response.status).toBe(400);
        expect(response.headers.get("cache-control")).toBe("no-store");
        expect(await response.json()).toEqual({
          error: "invalid_dpop_proof",
          error_description: expect.any(String),
        });
      }

      it("advertises the accepted proof algorithms in the metadata (RFC 9449 §5.1)", async () => {
        const response = await fetch(url("/.well-known/oauth-authorization-server"));
        expect(await response.json()).toMatchObject({
          dpop_signing_alg_values_supported: tokens.config.dpop.algorithms,
        });
      });

      it("binds a session started with a proof and refreshes it with one", async () => {
        const { refreshToken } = await boundLogin();
        const response = await refreshBound(refreshToken as string, await refreshProof());
        expect(response.status).toBe(200);
        const body = (await response.json()) as { access_token: string; token_type: string };
        expect(body.token_type).toBe("DPoP");
        expect(boundKey(body.access_token)).toBe(key.jkt);
      });

      it("refuses a bound refresh without a proof, and does not take it for reuse", async () => {
        const { refreshToken } = await boundLogin();
        await expectProofRefused(await refreshBound(refreshToken as string));
        const proved = await refreshBound(refreshToken as string, await refreshProof());
        expect(proved.status).toBe(200);
      });

      it("refuses a proof made with another key", async () => {
        const { refreshToken } = await boundLogin();
        await expectProofRefused(
          await refreshBound(refreshToken as string, await refreshProof(otherKey)),
        );
        expect((await refreshBound(refreshToken as string, await refreshProof())).status).toBe(200);
      });

      it("refuses a replayed proof", async () => {
        const { refreshToken } = await boundLogin();
        const once = await refreshProof();
        const first = await refreshBound(refreshToken as string, once);
        expect(first.status).toBe(200);
        const { refresh_token: next } = (await first.json()) as { refresh_token: string };
        await expectProofRefused(await refreshBound(next, once));
      });

      it("refuses a proof for another URL or method", async () => {
        const { refreshToken } = await boundLogin();
        const elsewhere = await dpopProof(key, { htm: "POST", htu: url(handlers.paths.revoke) });
        await expectProofRefused(await refreshBound(refreshToken as string, elsewhere));
        const asGet = await dpopProof(key, { htm: "GET", htu: url(handlers.paths.refresh) });
        await expectProofRefused(await refreshBound(refreshToken as string, asGet));
      });

      it("refuses a request with two DPoP headers", async () => {
        const { refreshToken } = await boundLogin();
        const headers = new Headers(FORM);
        headers.append("dpop", await refreshProof());
        headers.append("dpop", await refreshProof());
        const response = await post(handlers.paths.refresh, {
          headers,
          body: new URLSearchParams({
            grant_type: "refresh_token",
            refresh_token: refreshToken as string,
          }).toString(),
        });
        await expectProofRefused(response);
      });

      it("refuses a login with an invalid proof with 400 invalid_dpop_proof", async () => {
        const dpop = await dpopProof(key, { htm: "POST", htu: url("/elsewhere") });
        await expectProofRefused(await post("/login", { headers: { dpop } }));
      });

      it("revokes a bound access token only with a proof of its key", async () => {
        const { accessToken, refreshToken } = await boundLogin();
        const revoke = (dpop?: string) =>
          post(handlers.paths.revoke, {
            headers: { ...FORM, ...(dpop === undefined ? {} : { dpop }) },
            body: new URLSearchParams({ token: accessToken }).toString(),
          });
        await expectProofRefused(await revoke());
        const htu = url(handlers.paths.revoke);
        await expectProofRefused(
          await revoke(await dpopProof(otherKey, { htm: "POST", htu, accessToken })),
        );
        expect((await revoke(await dpopProof(key, { htm: "POST", htu, accessToken }))).status).toBe(
          200,
        );
        const after = await refreshBound(refreshToken as string, await refreshProof());
        expect(after.status).toBe(400);
        expect(await after.json()).toMatchObject({ error: "invalid_grant" });
      });

      it("keeps the cookie of a bound session when a refresh lacks the proof", async () => {
        const { response } = await boundLogin({ "token-transport": "cookie" });
        const cookie = cookieOf(response);
        const headers = { ...CSRF, ...cookieHeader(cookie) };
        const refused = await post(handlers.paths.refresh, { headers });
        await expectProofRefused(refused);
        expect(refused.headers.getSetCookie()).toEqual([]);
        const proved = await post(handlers.paths.refresh, {
          headers: { ...headers, dpop: await refreshProof() },
        });
        expect(proved.status).toBe(200);
        expect(cookieOf(proved).value).not.toBe(cookie.value);
      });

      describe("on protected routes (RFC 9449 §7)", () => {
        const me = async (authorization: string, dpop?: string) =>
          fetch(url("/api/me"), {
            headers: { authorization, ...(dpop === undefined ? {} : { dpop }) },
          });
        const meProof = (
          accessToken: string,
          claims: Partial<Parameters<typeof dpopProof>[1]> = {},
        ) => dpopProof(key, { htm: "GET", htu: url("/api/me"), accessToken, ...claims });
        async function expectChallenge(response: Response, error: string) {
          expect(response.status).toBe(401);
          expect(response.headers.get("www-authenticate")).toMatch(
            new RegExp(`^DPoP error="${error}", error_description="[^"\\\\]+", ${algs()}$`),
          );
          expect(await response.json()).toMatchObject({ error });
        }

        it("accepts a bound token with the DPoP scheme and a proof carrying its hash", async () => {
          const { accessToken } = await boundLogin();
          const response = await me(`DPoP ${accessToken}`, await meProof(accessToken));
          expect(response.status).toBe(200);
          const { auth } = (await response.json()) as { auth: { cnf?: { jkt: string } } };
          expect(auth.cnf).toEqual({ jkt: key.jkt });
        });

        it("refuses a bound token sent as a bearer token, naming the DPoP scheme", async () => {
          const { accessToken } = await boundLogin();
          await expectChallenge(await me(`Bearer ${accessToken}`), "invalid_token");
        });

        it("refuses the DPoP scheme without a proof", async () => {
          const { accessToken } = await boundLogin();
          await expectChallenge(await me(`DPoP ${accessToken}`), "invalid_dpop_proof");
        });

        it.each([
          ["for another method", { htm: "POST" }],
          ["for another URL", { htu: "http://127.0.0.1:1/api/me" }],
          ["for another access token", { accessToken: "another.access.token" }],
        ])("refuses a proof %s", async (_, claims) => {
          const { accessToken } = await boundLogin();
          const response = await me(`DPoP ${accessToken}`, await meProof(accessToken, claims));
          await expectChallenge(response, "invalid_dpop_proof");
        });

        it("refuses a replayed proof", async () => {
          const { accessToken } = await boundLogin();
          const once = await meProof(accessToken);
          expect((await me(`DPoP ${accessToken}`, once)).status).toBe(200);
          await expectChallenge(await me(`DPoP ${accessToken}`, once), "invalid_dpop_proof");
        });

        it("refuses an unbound token with the DPoP scheme", async () => {
          const { accessToken } = await bodyLogin();
          const response = await me(`DPoP ${accessToken}`, await meProof(accessToken));
          await expectChallenge(response, "invalid_token");
        });

        it("answers a DPoP scheme without a token with 400 invalid_request", async () => {
          const response = await me("DPoP");
          expect(response.status).toBe(400);
          expect(response.headers.get("www-authenticate")).toMatch(
            /^DPoP error="invalid_request", error_description="[^"]+", algs="/,
          );
        });
      });
    });

    describe("login answer", () => {
      it("records the client context the binding knows: IP, user agent, device id", async () => {
        await login("?sub=context-check", {
          "user-agent": "SuiteAgent/1.0",
          "token-device-id": "device-7",
        });
        const [session] = await tokens.listSessions("context-check");
        expect(session?.client).toEqual({
          ip: expect.stringMatching(/^(::ffff:)?127\.0\.0\.1$/),
          userAgent: "SuiteAgent/1.0",
          deviceId: "device-7",
        });
      });

      it("refuses what the app's credential check refuses", async () => {
        expect((await post("/login?sub=nobody")).status).toBe(401);
      });

      it("answers 503 when the session cannot be stored", async () => {
        outage.down = true;
        const response = await post("/login");
        expect(response.status).toBe(503);
        expect(response.headers.get("retry-after")).toBe("5");
      });

      it("refuses an unknown Token-Transport", async () => {
        const response = await post("/login", { headers: { "token-transport": "carrier-pigeon" } });
        expect(response.status).toBe(400);
        expect(await response.json()).toMatchObject({ error: "invalid_request" });
      });
    });

    describe("aborted uploads", () => {
      /**
       * Sends a refresh request's headers with `Expect: 100-continue`, waits for the server's
       * "100 Continue" (sent as the request reaches the app), sends part of the body and
       * destroys the socket.
       */
      function abortMidBody(): Promise<void> {
        const { hostname, port } = new URL(server.url);
        return new Promise((resolve, reject) => {
          const socket = connect(Number(port), hostname, () => {
            socket.write(
              `POST ${handlers.paths.refresh} HTTP/1.1\r\nHost: ${hostname}:${port}\r\n` +
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 4000\r\n" +
                "Expect: 100-continue\r\n\r\n",
            );
          });
          let received = "";
          socket.on("data", (chunk: Buffer) => {
            received += chunk.toString("latin1");
            if (!received.startsWith("HTTP/1.1 100")) {
              reject(new Error(`expected 100 Continue, got ${received.slice(0, 40)}`));
              socket.destroy();
            } else if (received.includes("\r\n\r\n") && !socket.destroyed) {
              socket.write("grant_type=refresh_token&refresh_token=tokens_rt_", () =>
                socket.destroy(),
              );
            }
          });
          socket.on("error", reject);
          socket.on("close", () => resolve());
        });
      }

      it("does not report a client that leaves mid-body, and keeps serving", async () => {
        await Promise.all(Array.from({ length: 5 }, abortMidBody));
        // Served after the aborts were handled, on the same server.
        const { refreshToken } = await bodyLogin();
        const response = await refreshWith(refreshToken);
        expect(response.status).toBe(200);
        expect(reported).toEqual([]);
      });
    });

    describe("cookie mode", () => {
      it("sets the refresh token in a hardened cookie and keeps it out of the body", async () => {
        const { cookie } = await cookieLogin();
        expect(cookie.name).toBe("__Secure-tokens_rt");
        expect(cookie.value).toMatch(/^tokens_rt_/);
        expect(cookie.httpOnly).toBe(true);
        expect(cookie.secure).toBe(true);
        expect(cookie.sameSite).toBe("strict");
        expect(cookie.path).toBe("/auth");
        // Max-Age is the session's idle lifetime (7 days by default), give or take a second.
        expect(cookie.maxAge).toBeGreaterThanOrEqual(604_798);
        expect(cookie.maxAge).toBeLessThanOrEqual(604_800);
      });

      it("refreshes with the cookie from an allowed origin, rotating the cookie", async () => {
        const { cookie } = await cookieLogin();
        const response = await post(handlers.paths.refresh, {
          headers: { ...CSRF, ...cookieHeader(cookie) },
        });
        expect(response.status).toBe(200);
        const body = (await response.json()) as Record<string, unknown>;
        expect(body).toHaveProperty("access_token");
        expect(body).not.toHaveProperty("refresh_token");
        const next = cookieOf(response);
        expect(next.value).toMatch(/^tokens_rt_/);
        expect(next.value).not.toBe(cookie.value);
        expect(next.path).toBe("/auth");
      });

      it("accepts Sec-Fetch-Site: same-origin when there is no Origin", async () => {
        const { cookie } = await cookieLogin();
        const response = await post(handlers.paths.refresh, {
          headers: {
            "token-request": "1",
            "sec-fetch-site": "same-origin",
            ...cookieHeader(cookie),
          },
        });
        expect(response.status).toBe(200);
      });

      it.each([
        ["without the custom header", { origin: APP_ORIGIN }],
        ["from another origin", { "token-request": "1", origin: "https://evil.example" }],
        ["cross-site without Origin", { "token-request": "1", "sec-fetch-site": "cross-site" }],
        ["with neither Origin nor Sec-Fetch-Site", { "token-request": "1" }],
      ])("refuses a cookie refresh %s with 403", async (_, headers) => {
        const { cookie } = await cookieLogin();
        const response = await post(handlers.paths.refresh, {
          headers: { ...headers, ...cookieHeader(cookie) },
        });
        expect(response.status).toBe(403);
        expect(await response.json()).toMatchObject({ error: "invalid_request" });
        // The cookie still works from the right place: nothing was spent.
        const ok = await post(handlers.paths.refresh, {
          headers: { ...CSRF, ...cookieHeader(cookie) },
        });
        expect(ok.status).toBe(200);
      });

      it("clears the cookie when its token is refused (reuse)", async () => {
        const { cookie } = await cookieLogin();
        const rotated = await post(handlers.paths.refresh, {
          headers: { ...CSRF, ...cookieHeader(cookie) },
        });
        const second = cookieOf(rotated);
        const third = cookieOf(
          await post(handlers.paths.refresh, { headers: { ...CSRF, ...cookieHeader(second) } }),
        );
        const reused = await post(handlers.paths.refresh, {
          headers: { ...CSRF, ...cookieHeader(cookie) },
        });
        expect(reused.status).toBe(400);
        const cleared = cookieOf(reused);
        expect(await reused.json()).toMatchObject({ error: "invalid_grant" });
        expect(cleared).toMatchObject({
          name: "__Secure-tokens_rt",
          value: "",
          maxAge: 0,
          path: "/auth",
        });
        const live = await post(handlers.paths.refresh, {
          headers: { ...CSRF, ...cookieHeader(third) },
        });
        expect(live.status).toBe(400);
      });

      it("logs out through the revocation endpoint and clears the cookie", async () => {
        const { cookie } = await cookieLogin();
        const response = await post(handlers.paths.revoke, {
          headers: { ...CSRF, ...cookieHeader(cookie) },
        });
        expect(response.status).toBe(200);
        expect(cookieOf(response)).toMatchObject({
          value: "",
          maxAge: 0,
          path: "/auth",
          httpOnly: true,
        });
        const after = await post(handlers.paths.refresh, {
          headers: { ...CSRF, ...cookieHeader(cookie) },
        });
        expect(after.status).toBe(400);
      });

      it("refuses a cross-origin cookie logout with 403", async () => {
        const { cookie } = await cookieLogin();
        const response = await post(handlers.paths.revoke, {
          headers: {
            "token-request": "1",
            origin: "https://evil.example",
            ...cookieHeader(cookie),
          },
        });
        expect(response.status).toBe(403);
        expect(response.headers.getSetCookie()).toEqual([]);
      });

      it("prefers a refresh token in the body over the cookie, without CSRF checks", async () => {
        const { cookie } = await cookieLogin();
        const { refreshToken } = await bodyLogin();
        const response = await post(handlers.paths.refresh, {
          headers: { ...FORM, ...cookieHeader(cookie) },
          body: `grant_type=refresh_token&refresh_token=${refreshToken}`,
        });
        expect(response.status).toBe(200);
        expect(await response.json()).toHaveProperty("refresh_token");
        expect(response.headers.getSetCookie()).toEqual([]);
      });
    });
  });
}
