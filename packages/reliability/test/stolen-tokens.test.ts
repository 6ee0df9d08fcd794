/*
 * Stolen refresh and access tokens, end to end over HTTP on every binding: whichever of thief and
 * victim refreshes first, the other's later use (past the grace window) ends the session for
 * both; a token replayed from another device is refused; revoking a subject stops its access
 * tokens wherever the route checks the session.
 */
import { createTokens, generateSigningKey, type Tokens } from "@tokens/core";
import { createHandlers } from "@tokens/http";
import { memoryStore } from "@tokens/memory";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUDIENCE, ISSUER } from "../../http/test/suite.js";
import { BINDINGS, type SuiteServer } from "./servers.js";

const GRACE_SECONDS = 10;

interface Grant {
  access_token: string;
  refresh_token: string;
}

describe.each(Object.entries(BINDINGS))("%s: stolen tokens", (_name, serve) => {
  let server: SuiteServer;
  let tokens: Tokens;
  // The tokens' clock, moved forward by the tests to step past the grace window.
  let clock = Date.now();

  beforeAll(async () => {
    tokens = createTokens({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: [await generateSigningKey("EdDSA")],
      store: memoryStore(),
      reuseGrace: GRACE_SECONDS,
      now: () => clock,
    });
    server = await serve(createHandlers(tokens));
  });
  afterAll(() => server?.close());

  const pastGrace = () => {
    clock += (GRACE_SECONDS + 1) * 1_000;
  };

  async function login(subject: string, headers: Record<string, string> = {}): Promise<Grant> {
    const response = await fetch(`${server.url}/login?sub=${subject}`, { method: "POST", headers });
    expect(response.status).toBe(200);
    return (await response.json()) as Grant;
  }

  function refresh(refreshToken: string, headers: Record<string, string> = {}) {
    return fetch(`${server.url}/auth/token/refresh`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken }),
    });
  }

  async function refused(response: Response) {
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: "invalid_grant" });
  }

  async function rotated(response: Response): Promise<Grant> {
    expect(response.status).toBe(200);
    return (await response.json()) as Grant;
  }

  it.each([
    ["thief first", "thief"],
    ["victim first", "victim"],
  ])(
    "ends the session when the %s refreshes and the other follows past grace",
    async (_, first) => {
      const stolen = (await login(`stolen-${first}`)).refresh_token;
      const winner = await rotated(await refresh(stolen));
      pastGrace();
      // The loser presents the spent token: reuse, the whole session ends.
      await refused(await refresh(stolen));
      await refused(await refresh(winner.refresh_token));
      const [session] = await tokens.listSessions(`stolen-${first}`);
      expect(session).toBeUndefined();
      // The winner's access token is refused wherever the route checks the session.
      const strict = await fetch(`${server.url}/api/strict`, {
        headers: { authorization: `Bearer ${winner.access_token}` },
      });
      expect(strict.status).toBe(401);
    },
  );

  it("refuses a refresh token presented with another device id", async () => {
    const grant = await login("device-bound", { "token-device-id": "phone-1" });
    await refused(await refresh(grant.refresh_token, { "token-device-id": "laptop-9" }));
    // Refused without spending it: the owner's device still refreshes.
    await rotated(await refresh(grant.refresh_token, { "token-device-id": "phone-1" }));
  });

  it("stops access tokens at checkSession after revokeSubject", async () => {
    const grants = [await login("revoked-subject"), await login("revoked-subject")];
    const strict = (accessToken: string) =>
      fetch(`${server.url}/api/strict`, { headers: { authorization: `Bearer ${accessToken}` } });
    for (const grant of grants) expect((await strict(grant.access_token)).status).toBe(200);
    await tokens.revokeSubject("revoked-subject");
    for (const grant of grants) {
      const response = await strict(grant.access_token);
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
      await refused(await refresh(grant.refresh_token));
    }
  });
});
