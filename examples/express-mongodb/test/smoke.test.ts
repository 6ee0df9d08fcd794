// The example against the MongoDB server MONGODB_URL names, with real `fetch`. Without
// MONGODB_URL it is skipped, loudly: nothing stands in for a real server. The tests that need
// no server are in unavailable.test.ts.
import { generateSigningKey, type SigningKey } from "@tokens/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loginRefreshReuse } from "../../shared/flow.js";
import { createApp } from "../src/app.js";
import { type Database, openDatabase } from "../src/database.js";
import { expectPublicJwks, login, refresh, revoke, type Served, serve } from "./support.js";

const url = process.env.MONGODB_URL;
if (!url) {
  console.warn(
    "[express-mongodb] SKIPPED the smoke test against MongoDB: MONGODB_URL is not set " +
      "(e.g. MONGODB_URL=mongodb://127.0.0.1:27017). See examples/express-mongodb/README.md.",
  );
}

// No MongoDB server can run on the CI machine, so this suite runs only where MONGODB_URL points
// at one; test/unavailable.test.ts exercises the real driver without a server on every run.
describe.skipIf(!url)("express-mongodb on a real MongoDB (needs MONGODB_URL)", () => {
  let database: Database;
  let key: SigningKey;
  let served: Served;

  beforeAll(async () => {
    // A database of the example's own on the server, so parallel suites never clash.
    database = await openDatabase(url ?? "", { name: "tokens_example_mongodb" });
    key = await generateSigningKey("EdDSA");
    served = await serve(createApp({ issuer: "http://127.0.0.1", keys: [key], db: database.db }));
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
});
