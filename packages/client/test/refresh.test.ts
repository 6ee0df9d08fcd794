import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createTokenClient,
  type SessionEndedEvent,
  TokenClientError,
  type TokenClientOptions,
} from "../src/index.js";
import {
  memoryStorage,
  postStreamed,
  startTokenServer,
  type TestTokenServer,
} from "./support/token-server.js";

let server: TestTokenServer;

beforeEach(async () => {
  server = await startTokenServer();
});

afterEach(async () => {
  await server.close();
});

/** A body-mode client (the Node/native transport) for a device that logged in earlier. */
function loggedInClient(options: Partial<TokenClientOptions> = {}) {
  const storage = memoryStorage(server.issueRefreshToken());
  const client = createTokenClient({ baseUrl: server.url, transport: "body", storage, ...options });
  const ended: SessionEndedEvent[] = [];
  const failed: TokenClientError[] = [];
  client.on("sessionEnded", (event) => ended.push(event));
  client.on("refreshFailed", (error) => failed.push(error));
  return { client, storage, ended, failed };
}

function deferred() {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { promise, release };
}

describe("single-flight refresh", () => {
  it("serves 20 concurrent calls with one refresh when there is no access token yet", async () => {
    const { client, storage } = loggedInClient();
    const responses = await Promise.all(Array.from({ length: 20 }, () => client.fetch("/api/me")));
    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(200));
    expect(server.refreshes).toBe(1);
    expect(storage.writes).toBe(1);
    expect(new Set(server.authorizations).size).toBe(1);
  });

  it("answers 20 concurrent 401s with one refresh and one retry each", async () => {
    const { client } = loggedInClient();
    await client.getAccessToken();
    server.expireAccessTokens();
    const responses = await Promise.all(Array.from({ length: 20 }, () => client.fetch("/api/me")));
    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(200));
    expect(server.refreshes).toBe(2); // the initial one, then exactly one for the 20 rejections
    expect(server.apiCalls).toBe(40);
    expect(server.apiRejections).toBe(20);
  });

  it("refreshes before expiry (skew) instead of waiting for a 401", async () => {
    let clock = Date.parse("2030-01-01T00:00:00Z");
    const { client } = loggedInClient({ now: () => clock, refreshSkew: 60 });
    const first = await client.getAccessToken();
    clock += (900 - 59) * 1000; // inside the skew window, not yet expired
    const responses = await Promise.all(Array.from({ length: 5 }, () => client.fetch("/api/me")));
    expect(responses.every((response) => response.ok)).toBe(true);
    expect(server.refreshes).toBe(2);
    expect(server.apiRejections).toBe(0);
    expect(server.authorizations).not.toContain(`Bearer ${first}`);
  });

  it("caps the skew at half the lifetime so short-lived tokens are used", async () => {
    let clock = 0;
    server.accessTtl = 10;
    const { client } = loggedInClient({ now: () => clock, refreshSkew: 60 });
    await client.getAccessToken();
    clock += 4_000;
    await client.fetch("/api/me");
    expect(server.refreshes).toBe(1);
    clock += 2_000; // past half of 10 s
    await client.fetch("/api/me");
    expect(server.refreshes).toBe(2);
  });

  it("retries a late 401 with the token another caller already obtained, without refreshing", async () => {
    const { client } = loggedInClient();
    await client.getAccessToken();
    server.expireAccessTokens();
    const gate = deferred();
    server.apiGate = gate.promise;
    // Sent with the old token; its 401 is held back until after the other call refreshed.
    const late = client.fetch("/api/me", { headers: { "x-hold": "1" } });
    expect((await client.fetch("/api/me")).status).toBe(200);
    expect(server.refreshes).toBe(2);
    gate.release();
    expect((await late).status).toBe(200);
    expect(server.refreshes).toBe(2);
    expect(server.apiRejections).toBe(2);
  });
});

describe("retry after a rejected access token", () => {
  it("refreshes once and retries once, replaying a string body", async () => {
    const { client } = loggedInClient();
    await client.getAccessToken();
    server.expireAccessTokens();
    const response = await client.fetch("/api/echo", { method: "POST", body: "payload" });
    expect(response.status).toBe(200);
    expect(server.echoed).toEqual(["payload"]);
    expect(server.apiCalls).toBe(2);
  });

  it("replays the body of a Request object", async () => {
    const { client } = loggedInClient();
    await client.getAccessToken();
    server.expireAccessTokens();
    const request = new Request(`${server.url}/api/echo`, {
      method: "POST",
      body: JSON.stringify({ n: 1 }),
      headers: { "content-type": "application/json", "x-app": "kept" },
    });
    const response = await client.fetch(request);
    expect(response.status).toBe(200);
    expect(server.echoed).toEqual(['{"n":1}']);
  });

  it("returns the second 401 to the caller without another refresh", async () => {
    const { client } = loggedInClient();
    await client.getAccessToken();
    server.rejectAllAccessTokens = true;
    const response = await client.fetch("/api/me");
    expect(response.status).toBe(401);
    expect(server.refreshes).toBe(2);
    expect(server.apiCalls).toBe(2);
  });

  it("does not replay a stream body: the 401 is returned, the session still recovers", async () => {
    const { client } = loggedInClient();
    await client.getAccessToken();
    server.expireAccessTokens();
    const response = await postStreamed(client, "streamed");
    expect(response.status).toBe(401);
    expect(server.apiCalls).toBe(1);
    expect(server.refreshes).toBe(2);
    expect((await client.fetch("/api/echo", { method: "POST", body: "again" })).status).toBe(200);
  });

  it("ignores a 401 without an invalid_token challenge", async () => {
    const { client } = loggedInClient();
    await client.getAccessToken();
    server.rejectAllAccessTokens = true;
    const plain = createTokenClient({
      baseUrl: server.url,
      transport: "body",
      storage: memoryStorage(server.issueRefreshToken()),
      isTokenRejected: (response) => response.status === 418,
    });
    const response = await plain.fetch("/api/me");
    expect(response.status).toBe(401);
    expect(server.apiCalls).toBe(1);
  });

  it("leaves requests alone that carry their own Authorization or go to another origin", async () => {
    const { client } = loggedInClient();
    const own = await client.fetch("/api/me", { headers: { authorization: "Bearer mine" } });
    expect(own.status).toBe(401);
    const other = await startTokenServer();
    try {
      const foreign = await client.fetch(`${other.url}/api/me`);
      expect(foreign.status).toBe(401);
      expect(other.authorizations).toEqual([null]);
    } finally {
      await other.close();
    }
    expect(server.authorizations).toEqual(["Bearer mine"]);
    expect(server.refreshes).toBe(0);
  });
});

describe("session end", () => {
  it("fires sessionEnded with the server's reason on invalid_grant and never loops", async () => {
    const { client, storage, ended } = loggedInClient();
    await client.getAccessToken();
    server.revokeAll();
    const response = await client.fetch("/api/me");
    expect(response.status).toBe(401);
    expect(ended).toEqual([
      {
        error: "invalid_grant",
        error_description: "session revoked",
        status: 400,
        source: "refresh",
      },
    ]);
    expect(client.state).toBe("ended");
    expect(storage.value).toBeNull();
    expect(server.refreshes).toBe(2);

    const after = await client.fetch("/api/me");
    expect(after.status).toBe(401);
    expect(server.authorizations.at(-1)).toBeNull();
    expect(server.refreshes).toBe(2);
    expect(ended).toHaveLength(1);
  });

  it("ends the session on a reused refresh token", async () => {
    const stolen = server.issueRefreshToken();
    const storage = memoryStorage(stolen);
    const client = createTokenClient({ baseUrl: server.url, transport: "body", storage });
    const ended: SessionEndedEvent[] = [];
    client.on("sessionEnded", (event) => ended.push(event));
    // The thief rotates first; the device's token is now spent.
    const thief = await fetch(`${server.url}/auth/token/refresh`, {
      method: "POST",
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: stolen }),
    });
    expect(thief.status).toBe(200);
    expect(await client.getAccessToken()).toBeNull();
    expect(ended[0]?.error_description).toBe("refresh token reused");
  });

  it("reports an empty storage as no session without calling the server", async () => {
    const client = createTokenClient({
      baseUrl: server.url,
      transport: "body",
      storage: memoryStorage(),
    });
    const ended: SessionEndedEvent[] = [];
    client.on("sessionEnded", (event) => ended.push(event));
    const response = await client.fetch("/api/me");
    expect(response.status).toBe(401);
    expect(ended).toMatchObject([{ error: "no_session", source: "storage" }]);
    expect(server.refreshes).toBe(0);
  });
});

describe("refresh failures that keep the session", () => {
  it("treats 503 temporarily_unavailable as retryable, not as a session end", async () => {
    const { client, storage, ended, failed } = loggedInClient();
    const token = storage.value;
    server.refreshMode = "unavailable";
    const error = await client.fetch("/api/me").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TokenClientError);
    expect(error).toMatchObject({
      code: "temporarily_unavailable",
      status: 503,
      retryable: true,
      retryAfter: 1,
    });
    expect(failed.map((failure) => failure.code)).toEqual(["temporarily_unavailable"]);
    expect(ended).toEqual([]);
    expect(client.state).not.toBe("ended");
    expect(storage.value).toBe(token);

    server.refreshMode = "normal";
    expect((await client.fetch("/api/me")).status).toBe(200);
  });

  it("keeps using the current token inside the skew window when the refresh fails", async () => {
    let clock = 0;
    const { client, failed } = loggedInClient({ now: () => clock, refreshSkew: 60 });
    const token = await client.getAccessToken();
    clock += 850_000;
    server.refreshMode = "unavailable";
    const response = await client.fetch("/api/me");
    expect(response.status).toBe(200);
    expect(server.authorizations.at(-1)).toBe(`Bearer ${token}`);
    expect(failed).toHaveLength(1);
  });

  it("rejects a 401 retry with the refresh error when the server is unavailable", async () => {
    const { client, ended } = loggedInClient();
    await client.getAccessToken();
    server.expireAccessTokens();
    server.refreshMode = "unavailable";
    await expect(client.fetch("/api/me")).rejects.toMatchObject({
      code: "temporarily_unavailable",
    });
    expect(ended).toEqual([]);
  });

  it("rejects a malformed token response as invalid_response", async () => {
    const { client, ended } = loggedInClient();
    server.refreshMode = "garbage";
    await expect(client.getAccessToken()).rejects.toMatchObject({
      code: "invalid_response",
      retryable: false,
    });
    expect(ended).toEqual([]);
  });

  it("times out a refresh that never answers", async () => {
    const { client, ended, failed } = loggedInClient({ timeout: 200 });
    server.refreshMode = "hang";
    await expect(client.fetch("/api/me")).rejects.toMatchObject({
      code: "timeout",
      retryable: true,
    });
    expect(failed.map((failure) => failure.code)).toEqual(["timeout"]);
    expect(ended).toEqual([]);
    server.refreshMode = "normal";
    expect((await client.fetch("/api/me")).status).toBe(200);
  });

  it("rejects with network_error when the server is gone", async () => {
    const { client } = loggedInClient();
    await server.close();
    await expect(client.getAccessToken()).rejects.toMatchObject({ code: "network_error" });
    server = await startTokenServer();
  });
});

describe("abort", () => {
  it("aborts one waiting caller while the shared refresh completes for the others", async () => {
    const { client } = loggedInClient();
    const gate = deferred();
    server.refreshGate = gate.promise;
    const controller = new AbortController();
    const aborted = client.fetch("/api/me", { signal: controller.signal });
    const others = Array.from({ length: 3 }, () => client.fetch("/api/me"));
    controller.abort(new Error("user navigated away"));
    await expect(aborted).rejects.toThrow("user navigated away");
    gate.release();
    const responses = await Promise.all(others);
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200]);
    expect(server.refreshes).toBe(1);
  });

  it("rejects at once with an already aborted signal, without a refresh", async () => {
    const { client } = loggedInClient();
    const signal = AbortSignal.abort();
    await expect(client.fetch("/api/me", { signal })).rejects.toMatchObject({ name: "AbortError" });
    expect(server.refreshes).toBe(0);
  });

  it("passes the signal through to the API request", async () => {
    const { client } = loggedInClient();
    await client.getAccessToken();
    const gate = deferred();
    server.refreshGate = gate.promise;
    server.expireAccessTokens();
    const controller = new AbortController();
    const pending = client.fetch("/api/me", { signal: controller.signal });
    // Abort while the retry waits for the refresh after the 401.
    while (server.refreshes < 2) await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    gate.release();
    expect(await client.getAccessToken()).toMatch(/^at_/);
  });
});
