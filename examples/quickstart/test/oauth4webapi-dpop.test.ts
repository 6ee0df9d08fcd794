/*
 * The quickstart with DPoP (RFC 9449) on, driven by a client written elsewhere: oauth4webapi's
 * own DPoP support refreshes and calls /api/me with proofs; proofs crafted by hand (jose, or a
 * JWS put together byte by byte where jose refuses to make one) are each refused with the RFC
 * error. The real server on 127.0.0.1 with its embedded SQLite store, real fetch.
 */
import { mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAdaptorServer } from "@hono/node-server";
import { type DpopProofOptions, type DpopTestKey, dpopKey, dpopProof } from "@tokens/core/testing";
import { base64url, exportJWK, generateKeyPair, SignJWT } from "jose";
import * as oauth from "oauth4webapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createQuickstart,
  type OpenStore,
  openStore,
  type Quickstart,
  type QuickstartOptions,
} from "../src/index.js";

// The server speaks plain HTTP on 127.0.0.1; oauth4webapi requires an explicit opt-in.
const insecure = { [oauth.allowInsecureRequests]: true } as const;
// Sessions started by the demo login belong to tokens' default client.
const client: oauth.Client = { client_id: "default" };

/** A refresh through oauth4webapi, its proofs made by `handle`. */
async function refreshThrough(
  as: oauth.AuthorizationServer,
  handle: oauth.DPoPHandle,
  refreshToken: string,
): Promise<oauth.TokenEndpointResponse> {
  return oauth.processRefreshTokenResponse(
    as,
    client,
    await oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshToken, {
      DPoP: handle,
      ...insecure,
    }),
  );
}

/** GET /api/me through oauth4webapi with `accessToken`, its proof made by `handle`. */
function callMe(base: string, accessToken: string, handle: oauth.DPoPHandle): Promise<Response> {
  return oauth.protectedResourceRequest(
    accessToken,
    "GET",
    new URL(`${base}/api/me`),
    undefined,
    undefined,
    { DPoP: handle, ...insecure },
  );
}

type TokenBody = { access_token: string; token_type: string; refresh_token: string };

// The client's key (extractable, so that one test can put the private part in a proof's
// header), and oauth4webapi's handle on it.
let key: DpopTestKey;
let keyPair: CryptoKeyPair;
let dpop: oauth.DPoPHandle;
beforeAll(async () => {
  key = await dpopKey("ES256");
  keyPair = { privateKey: key.privateKey, publicKey: key.publicKey };
  dpop = oauth.DPoP(client, keyPair);
});

/** A proof signed with the client's key (jose), with any header or claim overridden. */
function signedProof(
  htm: string,
  htu: string,
  parts: Omit<DpopProofOptions, "htm" | "htu"> = {},
): Promise<string> {
  return dpopProof(key, { htm, htu, ...parts });
}

/**
 * The quickstart on 127.0.0.1 for the tests of one block, with its default store (embedded
 * SQLite, in a directory of its own), and its metadata as oauth4webapi discovered it.
 */
function serveQuickstart(options: Omit<QuickstartOptions, "issuer" | "store"> = {}) {
  const served = {} as { base: string; as: oauth.AuthorizationServer };
  let server: Server;
  let quickstart: Quickstart;
  let opened: OpenStore;
  let dir: string;
  beforeAll(async () => {
    // The issuer is the server's own URL, known once it listens: serve through a late binding.
    server = createAdaptorServer({
      fetch: (request, env) => quickstart.app.fetch(request, env),
    }) as Server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    served.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = await mkdtemp(join(tmpdir(), "tokens-quickstart-dpop-"));
    opened = await openStore(`file:${join(dir, "tokens.db")}`);
    quickstart = await createQuickstart({ ...options, issuer: served.base, store: opened.store });
    const issuer = new URL(served.base);
    served.as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { algorithm: "oauth2", ...insecure }),
    );
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await opened.close();
    await rm(dir, { recursive: true, force: true });
  });
  return served;
}

/** Logs the demo user in, with a proof of the client's key when one is given. */
function postLogin(base: string, proof?: string): Promise<Response> {
  return fetch(`${base}/auth/login`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(proof === undefined ? {} : { dpop: proof }),
    },
    body: JSON.stringify({ username: "demo", password: "demo" }),
  });
}

describe("quickstart with DPoP, through oauth4webapi", () => {
  const served = serveQuickstart();
  let base: string;
  let as: oauth.AuthorizationServer;
  beforeAll(() => {
    ({ base, as } = served);
  });

  /** Logs the demo user in with a proof of the client's key: the session is bound to it. */
  async function login(): Promise<TokenBody> {
    const response = await postLogin(base, await signedProof("POST", `${base}/auth/login`));
    expect(response.status).toBe(200);
    const body = (await response.json()) as TokenBody;
    expect(body.token_type).toBe("DPoP");
    return body;
  }

  const refreshWith = (refreshToken: string, proof: string | undefined) =>
    fetch(as.token_endpoint as string, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        ...(proof === undefined ? {} : { dpop: proof }),
      },
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken }),
    });

  async function expectInvalidProof(response: Response): Promise<void> {
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: "invalid_dpop_proof",
      error_description: expect.any(String),
    });
  }

  it("advertises DPoP in the server metadata", () => {
    expect(as.dpop_signing_alg_values_supported).toEqual(
      expect.arrayContaining(["ES256", "EdDSA"]),
    );
  });

  it("refreshes and calls /api/me with oauth4webapi's DPoP support", async () => {
    const { refresh_token } = await login();
    const result = await refreshThrough(as, dpop, refresh_token);
    expect(result.token_type).toBe("dpop");
    expect(result.refresh_token).not.toBe(refresh_token);

    const me = await callMe(base, result.access_token, dpop);
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({
      sub: "user_demo",
      cnf: { jkt: key.jkt },
    });

    // The bound token is worthless without the key: as a bearer token, or with another key.
    const asBearer = await fetch(`${base}/api/me`, {
      headers: { authorization: `Bearer ${result.access_token}` },
    });
    expect(asBearer.status).toBe(401);
    expect(asBearer.headers.get("www-authenticate")).toMatch(/^DPoP error="invalid_token", /);
    const thief = oauth.DPoP(client, await generateKeyPair("ES256"));
    const stolen = await callMe(base, result.access_token, thief).catch((error: unknown) => error);
    expect(stolen).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
    expect((stolen as oauth.WWWAuthenticateChallengeError).cause[0]).toMatchObject({
      scheme: "dpop",
      parameters: { error: "invalid_dpop_proof" },
    });
  });

  it("refuses a refresh with another key, and the session stays usable", async () => {
    const { refresh_token } = await login();
    const thief = oauth.DPoP(client, await generateKeyPair("ES256"));
    const refused = await refreshThrough(as, thief, refresh_token).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(oauth.ResponseBodyError);
    expect(refused).toMatchObject({ status: 400, error: "invalid_dpop_proof" });
    const owner = await refreshWith(
      refresh_token,
      await signedProof("POST", as.token_endpoint as string),
    );
    expect(owner.status).toBe(200);
  });

  it("refuses a replayed proof", async () => {
    const { refresh_token } = await login();
    const proof = await signedProof("POST", as.token_endpoint as string);
    const first = await refreshWith(refresh_token, proof);
    expect(first.status).toBe(200);
    const { refresh_token: next } = (await first.json()) as TokenBody;
    await expectInvalidProof(await refreshWith(next, proof));
  });

  /** The JWS of a proof put together by hand: for what jose will not sign (alg "none"). */
  const handmade = (header: object, payload: object, signature = "") =>
    `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}.${signature}`;
  const claimsFor = (htu: string) => ({
    htm: "POST",
    htu,
    jti: crypto.randomUUID(),
    iat: Math.floor(Date.now() / 1000),
  });

  it.each<[string, (htu: string) => Promise<string | undefined>]>([
    ["for another htu", () => signedProof("POST", `${base}/auth/token/revoke`)],
    ["for another htm", (htu) => signedProof("PUT", htu)],
    [
      "with a stale iat",
      (htu) => signedProof("POST", htu, { iat: Math.floor(Date.now() / 1000) - 3600 }),
    ],
    [
      "whose jwk has its private part",
      async (htu) => {
        // The session's own key, its private part included: the thumbprint still matches.
        const jwk = await exportJWK(key.privateKey);
        expect(jwk.d).toEqual(expect.any(String));
        return signedProof("POST", htu, { header: { jwk } });
      },
    ],
    [
      "with alg none",
      async (htu) => handmade({ alg: "none", typ: "dpop+jwt", jwk: key.publicJwk }, claimsFor(htu)),
    ],
    [
      "signed with HS256",
      async (htu) => {
        // Key confusion: an HMAC under the public key's bytes, with that key in the header.
        const secret = new TextEncoder().encode(JSON.stringify(key.publicJwk));
        return new SignJWT(claimsFor(htu))
          .setProtectedHeader({ alg: "HS256", typ: "dpop+jwt", jwk: key.publicJwk })
          .sign(secret);
      },
    ],
    ["that is missing", async () => undefined],
  ])("refuses a refresh proof %s with invalid_dpop_proof", async (_, makeProof) => {
    const { refresh_token } = await login();
    await expectInvalidProof(
      await refreshWith(refresh_token, await makeProof(as.token_endpoint as string)),
    );
    // Refused before the store was asked: not reuse, the session lives on.
    const owner = await refreshWith(
      refresh_token,
      await signedProof("POST", as.token_endpoint as string),
    );
    expect(owner.status).toBe(200);
  });
});

describe("quickstart with DPOP=required and DPOP_NONCE=true, through oauth4webapi", () => {
  const served = serveQuickstart({ dpop: { policy: "required", requireNonce: true } });

  it("refuses a login without a proof", async () => {
    const response = await postLogin(served.base);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: "invalid_dpop_proof" });
  });

  it("hands out nonces that oauth4webapi picks up and retries with", async () => {
    const { base, as } = served;
    const htu = `${base}/auth/login`;
    const first = await postLogin(base, await signedProof("POST", htu));
    expect(first.status).toBe(400);
    expect(await first.json()).toMatchObject({ error: "use_dpop_nonce" });
    const nonce = first.headers.get("dpop-nonce");
    expect(nonce).toEqual(expect.any(String));
    const login = await postLogin(base, await signedProof("POST", htu, { nonce: nonce as string }));
    expect(login.status).toBe(200);
    const { refresh_token } = (await login.json()) as TokenBody;

    // A handle of its own: it has seen no nonce of this server yet.
    const fresh = oauth.DPoP(client, keyPair);
    const refresh = async () => refreshThrough(as, fresh, refresh_token);
    const refused = await refresh().catch((error: unknown) => error);
    expect(oauth.isDPoPNonceError(refused)).toBe(true);
    const result = await refresh();
    expect(result.token_type).toBe("dpop");

    // The token answer carried the next nonce: the resource request needs no retry.
    const me = await callMe(base, result.access_token, fresh);
    expect(me.status).toBe(200);
  });
});
