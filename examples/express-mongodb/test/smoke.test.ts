// The example against a real MongoDB wire-protocol server, with real `fetch`: the one
// MONGODB_URL names, or else a FerretDB the project's globalSetup started
// (packages/mongodb/test/support/global-setup.ts). With neither it is skipped, loudly. The tests
// that need no server are in unavailable.test.ts.
import { generateSigningKey, type SigningKey } from "@tokens/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testServer } from "../../../packages/mongodb/test/support/server.js";
import { loginRefreshReuse } from "../../shared/flow.js";
import { type App, createApp } from "../src/app.js";
import { type Database, openDatabase } from "../src/database.js";
import { expectPublicJwks, login, refresh, revoke, type Served, serve } from "./support.js";

const server = testServer();
const url = server?.url;
if (!server) {
  console.warn(
    "[express-mongodb] SKIPPED the smoke test: MONGODB_URL is not set and no FerretDB could " +
      "start (bash scripts/bootstrap.sh builds it). See examples/express-mongodb/README.md.",
  );
}

describe.skipIf(!url)(`express-mongodb on ${server?.name ?? "MongoDB"}`, () => {
  let database: Database;
  let key: SigningKey;
  let served: Served;
  let app: App;

  beforeAll(async () => {
    // A database of the example's own on the server, so parallel suites never clash.
    database = await openDatabase(url ?? "", { name: "tokens_example_mongodb" });
    key = await generateSigningKey("EdDSA");
    app = createApp({ issuer: "http://127.0.0.1", keys: [key], db: database.db });
    served = await serve(app.app);
  });
  afterAll(async () => {
    await served?.close();
    await database?.close();
  });

  it("logs in, calls /api/me, rotates, and revokes the session on reuse (mongodb)", async () => {
    await loginRefreshReuse(served.send, "user_demo");
  });

  it("logs out: the revoked refresh token refreshes nothing", async () => {
    const response = await login(served.send);
    expect(response.status).toBe(200);
    const { refresh_token } = (await response.json()) as { refresh_token: string };
    expect((await revoke(served.send, refresh_token)).status).toBe(200);
    const refused = await refresh(served.send, refresh_token);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: "invalid_grant" });
  });

  it("access tokens name the key the JWK set publishes; only its public half", async () => {
    const { access_token } = (await (await login(served.send)).json()) as { access_token: string };
    const header = JSON.parse(
      Buffer.from(access_token.split(".")[0] ?? "", "base64url").toString(),
    );
    expect(header).toMatchObject({ alg: "EdDSA", kid: key.kid });
    await expectPublicJwks(served.send, key);
  });

  it("tokens.purge runs through the purgeAfter index and keeps live sessions", async () => {
    const { access_token } = (await (await login(served.send)).json()) as { access_token: string };
    expect(await app.tokens.purge()).toBeGreaterThanOrEqual(0);
    const me = await served.send("/api/me", {
      headers: { authorization: `Bearer ${access_token}` },
    });
    expect(me.status).toBe(200);
    const sessions = await app.tokens.listSessions("user_demo");
    expect(sessions.length).toBeGreaterThan(0);
  });
});
