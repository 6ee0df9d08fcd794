// The example over the real driver where no MongoDB answers, so it runs on every machine: the
// start fails at once with a typed error, and an app whose MongoDB is gone answers 503 in the
// RFC 6749 error shape, never a 500 or a hang, while what needs no store keeps working.
import { generateSigningKey, type SigningKey, StoreUnavailableError } from "@tokens/core";
import { taggedRefreshToken } from "@tokens/core/testing";
import { type Db, MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app.js";
import { openDatabase } from "../src/database.js";
import { expectPublicJwks, login, refresh, revoke, type Served, serve } from "./support.js";

// Port 1 on loopback: nothing listens there, connections are refused at once.
const UNREACHABLE = "mongodb://127.0.0.1:1/tokens_example_mongodb?directConnection=true";
const FAST = { serverSelectionTimeoutMS: 200, connectTimeoutMS: 200 };

/**
 * A refresh token under `key`'s tag, as the app would have issued before the outage, so the
 * server must look its session up in the store.
 */
const issuedRefreshToken = (key: SigningKey) =>
  taggedRefreshToken([key], "AAECAwQFBgcICQoLDA0ODw", 0);

async function expectUnavailable(response: Response): Promise<void> {
  expect(response.status).toBe(503);
  expect(response.headers.get("retry-after")).toBe("5");
  expect(response.headers.get("cache-control")).toBe("no-store");
  expect(await response.json()).toEqual({
    error: "temporarily_unavailable",
    error_description: "The token store is temporarily unavailable",
  });
}

describe("express-mongodb start without a reachable MongoDB", () => {
  it("fails with StoreUnavailableError naming the driver's error, before serving", async () => {
    const error = await openDatabase(UNREACHABLE, { client: FAST }).then(
      () => expect.fail("openDatabase resolved without a server"),
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error).toMatchObject({ code: "temporarily_unavailable", reason: "store_unavailable" });
    expect((error as Error).message).toContain(
      "MongoDB ensureIndexes failed (MongoServerSelectionError: connect ECONNREFUSED 127.0.0.1:1)",
    );
  });
});

describe("express-mongodb when MongoDB goes away after the start", () => {
  let client: MongoClient;
  let db: Db;
  let key: SigningKey;
  let served: Served;

  beforeAll(async () => {
    // The store's every call fails as in an outage: first the server selection times out,
    // then the driver's closed topology refuses at once. Both must come out as 503.
    client = new MongoClient(UNREACHABLE, FAST);
    key = await generateSigningKey("EdDSA");
    db = client.db("tokens_example_mongodb");
    served = await serve(createApp({ issuer: "http://127.0.0.1", keys: [key], db }).app);
  });
  afterAll(async () => {
    await served?.close();
    await client?.close();
  });

  it("a refresh answers 503 temporarily_unavailable with Retry-After, every time", async () => {
    const token = await issuedRefreshToken(key);
    await expectUnavailable(await refresh(served.send, token));
    await expectUnavailable(await refresh(served.send, token));
  });

  it("a login answers 503 too: the client retries instead of seeing a server fault", async () => {
    await expectUnavailable(await login(served.send));
  });

  it("a logout answers 503, never a 200 claiming the token is revoked", async () => {
    await expectUnavailable(await revoke(served.send, await issuedRefreshToken(key)));
  });

  it("what needs no store keeps answering: the JWK set and bearer checks", async () => {
    await expectPublicJwks(served.send, key);
    const anonymous = await served.send("/api/me");
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer, DPoP algs="/);
  });
});
