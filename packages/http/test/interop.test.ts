/*
 * Interoperability with clients written elsewhere: oauth4webapi discovers the server, runs the
 * refresh grant and revocation, and validates access tokens as RFC 9068 JWTs; jose verifies them
 * against the served JWK set.
 */
import { createServer } from "node:http";
import { createTokens, generateSigningKey, type Tokens } from "@tokens/core";
import { createHandlers } from "@tokens/http";
import { memoryStore } from "@tokens/memory";
import { createRemoteJWKSet, jwtVerify } from "jose";
import * as oauth from "oauth4webapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveOnNode } from "./fixtures/node-server.js";
import { createApp } from "./fixtures/web-app.js";
import { listen, loginFromUrl, type SuiteServer } from "./suite.js";

const AUDIENCE = "https://api.example.test";
const client: oauth.Client = { client_id: "interop-app" };
// The test server speaks plain HTTP on 127.0.0.1; oauth4webapi requires an explicit opt-in.
const insecure = { [oauth.allowInsecureRequests]: true };

describe("interop with oauth4webapi and jose", () => {
  let server: SuiteServer;
  let tokens: Tokens;
  let as: oauth.AuthorizationServer;

  beforeAll(async () => {
    // The issuer is the server's own URL, known only once it listens: route through a late binding.
    let inner: ReturnType<typeof serveOnNode> | undefined;
    server = await listen(createServer((req, res) => inner?.emit("request", req, res)));
    tokens = createTokens({
      issuer: server.url,
      audience: AUDIENCE,
      keys: [await generateSigningKey("ES256", { kid: "interop" })],
      store: memoryStore(),
    });
    inner = serveOnNode(
      createApp(createHandlers(tokens), async (request) => loginFromUrl(new URL(request.url))),
    );
    const issuer = new URL(server.url);
    as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { algorithm: "oauth2", ...insecure }),
    );
  });
  afterAll(() => server?.close());

  async function login(): Promise<{ access_token: string; refresh_token: string }> {
    const response = await fetch(`${server.url}/login?client_id=${client.client_id}`, {
      method: "POST",
    });
    expect(response.status).toBe(200);
    return (await response.json()) as { access_token: string; refresh_token: string };
  }

  const refresh = async (refreshToken: string) =>
    oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshToken, insecure),
    );

  it("discovers the endpoints (RFC 8414)", () => {
    expect(as).toMatchObject({
      issuer: server.url,
      token_endpoint: `${server.url}/auth/token/refresh`,
      revocation_endpoint: `${server.url}/auth/token/revoke`,
      jwks_uri: `${server.url}/.well-known/jwks.json`,
    });
  });

  it("runs the refresh grant and validates the access token as an RFC 9068 JWT", async () => {
    const first = await login();
    const result = await refresh(first.refresh_token);
    expect(result.token_type).toBe("bearer");
    expect(result.expires_in).toBe(900);
    expect(result.refresh_token).toMatch(/^tokens_rt_/);
    expect(result.refresh_token).not.toBe(first.refresh_token);

    const request = new Request(`${AUDIENCE}/resource`, {
      headers: { authorization: `Bearer ${result.access_token}` },
    });
    const claims = await oauth.validateJwtAccessToken(as, request, AUDIENCE, insecure);
    expect(claims).toMatchObject({ iss: server.url, sub: "alice", client_id: client.client_id });
  });

  it("verifies access tokens with jose against the remote JWK set", async () => {
    const { access_token } = await login();
    const jwks = createRemoteJWKSet(new URL(as.jwks_uri as string));
    const { payload, protectedHeader } = await jwtVerify(access_token, jwks, {
      issuer: server.url,
      audience: AUDIENCE,
      typ: "at+jwt",
    });
    expect(protectedHeader).toMatchObject({ alg: "ES256", kid: "interop" });
    expect(payload).toMatchObject({ sub: "alice", client_id: client.client_id });
  });

  it("revokes a refresh token (RFC 7009), after which the grant fails with invalid_grant", async () => {
    const { refresh_token } = await login();
    const response = await oauth.revocationRequest(as, client, oauth.None(), refresh_token, {
      ...insecure,
      additionalParameters: { token_type_hint: "refresh_token" },
    });
    await oauth.processRevocationResponse(response);

    const refused = await refresh(refresh_token).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(oauth.ResponseBodyError);
    expect(refused).toMatchObject({ status: 400, error: "invalid_grant" });
  });

  it("reports reuse of a spent refresh token as invalid_grant", async () => {
    const { refresh_token: first } = await login();
    const second = await refresh(first);
    await refresh(second.refresh_token as string);
    const reused = await refresh(first).catch((error: unknown) => error);
    expect(reused).toMatchObject({ status: 400, error: "invalid_grant" });
  });
});
