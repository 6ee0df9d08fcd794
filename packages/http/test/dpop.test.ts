/*
 * DPoP settings beyond the defaults every binding's suite runs with: server nonces (RFC 9449 §8,
 * §9), proofs checked against a configured public origin, and DPoP turned off. Real node:http
 * servers on 127.0.0.1, real fetch.
 */
import { createTokens, type DpopConfig, generateSigningKey, type Tokens } from "@tokens/core";
import { type DpopTestKey, dpopKey, dpopProof } from "@tokens/core/testing";
import { createHandlers, type HandlersOptions } from "@tokens/http";
import { memoryStore } from "@tokens/memory";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveOnNode } from "./fixtures/node-server.js";
import { createApp } from "./fixtures/web-app.js";
import { AUDIENCE, boundKey, ISSUER, listen, loginFromUrl, type SuiteServer } from "./suite.js";

const FORM = { "content-type": "application/x-www-form-urlencoded" };

type TokenBody = { access_token: string; token_type: string; refresh_token: string };

/** A server for one DPoP setting; `close` in afterAll. */
function serverWith(dpop: DpopConfig, options: HandlersOptions = {}) {
  const state = {} as { server: SuiteServer; tokens: Tokens };
  beforeAll(async () => {
    state.tokens = createTokens({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: [await generateSigningKey("EdDSA")],
      store: memoryStore(),
      dpop,
    });
    const handlers = createHandlers(state.tokens, {
      ...options,
      onError: (error) => {
        throw new Error("a handler reported an unexpected error", { cause: error });
      },
    });
    state.server = await listen(
      serveOnNode(createApp(handlers, async (request) => loginFromUrl(new URL(request.url)))),
    );
  });
  afterAll(() => state.server?.close());
  return state;
}

let key: DpopTestKey;
beforeAll(async () => {
  key = await dpopKey();
});

const refreshRequest = (refreshToken: string, dpop: string) => ({
  method: "POST",
  headers: { ...FORM, dpop },
  body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken }),
});

describe("server nonces (requireNonce)", () => {
  const state = serverWith({ requireNonce: true });
  const url = (path: string) => `${state.server.url}${path}`;

  /** Logs in as a client that has no nonce yet: refused once, then accepted with the nonce. */
  async function loginForNonce(): Promise<{ body: TokenBody; nonce: string }> {
    const first = await fetch(url("/login"), {
      method: "POST",
      headers: { dpop: await dpopProof(key, { htm: "POST", htu: url("/login") }) },
    });
    expect(first.status).toBe(400);
    expect(await first.json()).toMatchObject({ error: "use_dpop_nonce" });
    const nonce = first.headers.get("dpop-nonce");
    expect(nonce).toEqual(expect.any(String));
    const second = await fetch(url("/login"), {
      method: "POST",
      headers: {
        dpop: await dpopProof(key, { htm: "POST", htu: url("/login"), nonce: nonce as string }),
      },
    });
    expect(second.status).toBe(200);
    const body = (await second.json()) as TokenBody;
    expect(body.token_type).toBe("DPoP");
    return { body, nonce: second.headers.get("dpop-nonce") as string };
  }

  it("demands a nonce at login and hands a fresh one with the tokens", async () => {
    const { body, nonce } = await loginForNonce();
    expect(boundKey(body.access_token)).toBe(key.jkt);
    expect(nonce).toMatch(/^[\w-]+$/);
  });

  it("refuses a refresh proof without the nonce, then accepts it with one", async () => {
    const { body } = await loginForNonce();
    const htu = url("/auth/token/refresh");
    const refused = await fetch(
      htu,
      refreshRequest(body.refresh_token, await dpopProof(key, { htm: "POST", htu })),
    );
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: "use_dpop_nonce" });
    const current = refused.headers.get("dpop-nonce");
    expect(current).toEqual(expect.any(String));
    const accepted = await fetch(
      htu,
      refreshRequest(
        body.refresh_token,
        await dpopProof(key, { htm: "POST", htu, nonce: current as string }),
      ),
    );
    expect(accepted.status).toBe(200);
    expect(accepted.headers.get("dpop-nonce")).toEqual(expect.any(String));
  });

  it("challenges a resource request without the nonce with use_dpop_nonce (RFC 9449 §9)", async () => {
    const { body } = await loginForNonce();
    const htu = url("/api/me");
    const call = async (claims: { nonce?: string }) =>
      fetch(htu, {
        headers: {
          authorization: `DPoP ${body.access_token}`,
          dpop: await dpopProof(key, {
            htm: "GET",
            htu,
            accessToken: body.access_token,
            ...claims,
          }),
        },
      });
    const refused = await call({});
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toMatch(/^DPoP error="use_dpop_nonce", /);
    const current = refused.headers.get("dpop-nonce");
    expect(current).toEqual(expect.any(String));
    expect((await call({ nonce: current as string })).status).toBe(200);
  });
});

describe("proofs for a configured public origin (baseUrl)", () => {
  // The server listens on 127.0.0.1, as behind a proxy; clients address the public origin.
  const state = serverWith({}, { baseUrl: ISSUER });
  const local = (path: string) => `${state.server.url}${path}`;

  it("checks htu against the public origin, not the address the socket saw", async () => {
    const atSocket = await fetch(local("/login"), {
      method: "POST",
      headers: { dpop: await dpopProof(key, { htm: "POST", htu: local("/login") }) },
    });
    expect(atSocket.status).toBe(400);
    expect(await atSocket.json()).toMatchObject({ error: "invalid_dpop_proof" });

    const login = await fetch(local("/login?sub=public"), {
      method: "POST",
      headers: { dpop: await dpopProof(key, { htm: "POST", htu: `${ISSUER}/login` }) },
    });
    expect(login.status).toBe(200);
    const body = (await login.json()) as TokenBody;
    const refreshed = await fetch(
      local("/auth/token/refresh"),
      refreshRequest(
        body.refresh_token,
        await dpopProof(key, { htm: "POST", htu: `${ISSUER}/auth/token/refresh` }),
      ),
    );
    expect(refreshed.status).toBe(200);
    const me = await fetch(local("/api/me"), {
      headers: {
        authorization: `DPoP ${body.access_token}`,
        dpop: await dpopProof(key, {
          htm: "GET",
          htu: `${ISSUER}/api/me`,
          accessToken: body.access_token,
        }),
      },
    });
    expect(me.status).toBe(200);
  });
});

describe("DPoP turned off", () => {
  const state = serverWith({ policy: "off" });
  const url = (path: string) => `${state.server.url}${path}`;

  it("advertises no proof algorithms and ignores proofs", async () => {
    const metadata = (await (
      await fetch(url("/.well-known/oauth-authorization-server"))
    ).json()) as Record<string, unknown>;
    expect(metadata).not.toHaveProperty("dpop_signing_alg_values_supported");
    const login = await fetch(url("/login"), {
      method: "POST",
      headers: { dpop: await dpopProof(key, { htm: "POST", htu: url("/login") }) },
    });
    const body = (await login.json()) as TokenBody;
    expect(body.token_type).toBe("Bearer");
    expect(boundKey(body.access_token)).toBeUndefined();
    const anonymous = await fetch(url("/api/me"));
    expect(anonymous.headers.get("www-authenticate")).toBe("Bearer");
  });
});
