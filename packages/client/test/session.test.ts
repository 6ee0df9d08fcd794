import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createTokenClient,
  type RefreshedEvent,
  type SessionEndedEvent,
  TokenClientError,
  type TokenClientOptions,
} from "../src/index.js";
import {
  cookieJarFetch,
  memoryStorage,
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

describe("body mode (native apps)", () => {
  it("logs in, keeps the refresh token in storage and never returns it", async () => {
    const storage = memoryStorage();
    const client = createTokenClient({ baseUrl: server.url, transport: "body", storage });
    const refreshed: RefreshedEvent[] = [];
    client.on("refreshed", (event) => refreshed.push(event));
    const result = await client.login({ username: "demo", password: "demo" });
    expect(result.accessToken).toMatch(/^at_/);
    expect(result.data).toEqual({
      access_token: result.accessToken,
      token_type: "Bearer",
      expires_in: 900,
    });
    expect(storage.value).toMatch(/^rt_/);
    expect(server.logins[0]?.headers["token-transport"]).toBeUndefined();
    expect(refreshed).toMatchObject([{ source: "login" }]);
    expect(client.state).toBe("active");
    expect((await client.fetch("/api/me")).status).toBe(200);
    expect(server.refreshes).toBe(0);
  });

  it("sends the stored token as an RFC 6749 refresh grant and stores its successor", async () => {
    const initial = server.issueRefreshToken();
    const storage = memoryStorage(initial);
    const client = createTokenClient({
      baseUrl: server.url,
      transport: "body",
      storage,
      clientId: "ios",
    });
    await client.getAccessToken();
    const form = new URLSearchParams(server.refreshRequests[0]?.body);
    expect(Object.fromEntries(form)).toEqual({
      grant_type: "refresh_token",
      refresh_token: initial,
      client_id: "ios",
    });
    expect(server.refreshRequests[0]?.headers["content-type"]).toMatch(
      /^application\/x-www-form-urlencoded/,
    );
    expect(storage.value).not.toBe(initial);
    expect(storage.value).toMatch(/^rt_/);
  });

  it("rejects a refused login with the server's error and keeps no session", async () => {
    const storage = memoryStorage();
    const client = createTokenClient({ baseUrl: server.url, transport: "body", storage });
    const error = await client
      .login({ username: "demo", password: "wrong" })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TokenClientError);
    expect(error).toMatchObject({
      code: "invalid_grant",
      status: 401,
      description: "wrong username or password",
    });
    expect(storage.value).toBeNull();
    expect(client.state).toBe("unknown");
  });

  it("logs out: revokes server-side, clears storage, ends the session once", async () => {
    const storage = memoryStorage();
    const client = createTokenClient({ baseUrl: server.url, transport: "body", storage });
    const ended: SessionEndedEvent[] = [];
    client.on("sessionEnded", (event) => ended.push(event));
    await client.login({ username: "demo", password: "demo" });
    const token = storage.value;
    expect(await client.logout()).toBe(true);
    expect(server.revocations).toEqual([token]);
    expect(storage.value).toBeNull();
    expect(ended).toEqual([{ error: "logout", source: "logout" }]);
    expect(await client.getAccessToken()).toBeNull();
    expect(await client.logout()).toBe(false);
    expect(ended).toHaveLength(1);
    expect(server.refreshes).toBe(0);
  });

  it("logs out locally even when the server is unreachable", async () => {
    const storage = memoryStorage();
    const client = createTokenClient({ baseUrl: server.url, transport: "body", storage });
    await client.login({ username: "demo", password: "demo" });
    await server.close();
    expect(await client.logout()).toBe(false);
    expect(storage.value).toBeNull();
    expect(client.state).toBe("ended");
    server = await startTokenServer();
  });

  it("adopts tokens obtained elsewhere with setTokens and validates them", async () => {
    const storage = memoryStorage();
    const client = createTokenClient({ baseUrl: server.url, transport: "body", storage });
    const response = await fetch(`${server.url}/auth/login`, {
      method: "POST",
      body: JSON.stringify({ username: "demo", password: "demo" }),
    });
    const tokens = await client.setTokens(await response.json());
    expect(storage.value).toMatch(/^rt_/);
    expect((await client.fetch("/api/me")).status).toBe(200);
    expect(server.authorizations).toEqual([`Bearer ${tokens.accessToken}`]);
    await expect(client.setTokens({ access_token: "x", token_type: "MAC" })).rejects.toMatchObject({
      code: "invalid_response",
    });
    await expect(client.setTokens({ access_token: "" })).rejects.toMatchObject({
      code: "invalid_response",
    });
  });

  it("reports storage failures as storage_error without ending the session", async () => {
    const broken = {
      get: () => Promise.reject(new Error("keychain locked")),
      set: () => Promise.resolve(),
      clear: () => Promise.resolve(),
    };
    const client = createTokenClient({ baseUrl: server.url, transport: "body", storage: broken });
    const error = await client.getAccessToken().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "storage_error", retryable: false });
    expect((error as Error).cause).toMatchObject({ message: "keychain locked" });
    expect(client.state).toBe("unknown");
  });
});

describe("cookie mode", () => {
  function cookieClient(options: Partial<TokenClientOptions> = {}) {
    const jar = cookieJarFetch();
    const client = createTokenClient({ baseUrl: server.url, fetch: jar.fetch, ...options });
    return { client, jar };
  }

  it("asks for the cookie transport at login and refreshes with Token-Request, without a token in the body", async () => {
    const { client, jar } = cookieClient();
    const result = await client.login({ username: "demo", password: "demo" });
    expect(result.data).not.toHaveProperty("refresh_token");
    expect(server.logins[0]?.headers["token-transport"]).toBe("cookie");
    expect(jar.jar.get("rt")).toMatch(/^rt_/);
    const token = await client.refresh();
    expect(token).toMatch(/^at_/);
    expect(token).not.toBe(result.accessToken);
    const refresh = server.refreshRequests[0];
    expect(refresh?.headers["token-request"]).toBe("1");
    expect(new URLSearchParams(refresh?.body).get("refresh_token")).toBeNull();
  });

  it("finds an existing session on start-up through the cookie", async () => {
    const { client, jar } = cookieClient();
    jar.jar.set("rt", server.issueRefreshToken());
    expect(client.state).toBe("unknown");
    expect((await client.fetch("/api/me")).status).toBe(200);
    expect(client.state).toBe("active");
  });

  it("ends the session on start-up when there is no cookie, then stops asking", async () => {
    const { client } = cookieClient();
    const ended: SessionEndedEvent[] = [];
    client.on("sessionEnded", (event) => ended.push(event));
    expect(await client.getAccessToken()).toBeNull();
    expect(await client.getAccessToken()).toBeNull();
    expect(ended).toEqual([
      {
        error: "invalid_request",
        error_description: "Parameter refresh_token is required",
        status: 400,
        source: "refresh",
      },
    ]);
    expect(server.refreshes).toBe(1);
  });

  it("does not end the session when the server refuses the request as forged (403)", async () => {
    const jar = cookieJarFetch();
    jar.jar.set("rt", server.issueRefreshToken());
    // A fetch that strips the custom header, as a misconfigured proxy would.
    const stripping = (input: string | URL | Request, init?: RequestInit) => {
      const headers = new Headers(init?.headers);
      headers.delete("token-request");
      return jar.fetch(input, { ...init, headers });
    };
    const client = createTokenClient({ baseUrl: server.url, fetch: stripping });
    await expect(client.getAccessToken()).rejects.toMatchObject({
      code: "invalid_request",
      status: 403,
    });
    expect(client.state).toBe("unknown");
  });

  it("logs out with the cookie and Token-Request", async () => {
    const { client, jar } = cookieClient();
    await client.login({ username: "demo", password: "demo" });
    const token = jar.jar.get("rt");
    expect(await client.logout()).toBe(true);
    expect(server.revocations).toEqual([token]);
    expect(jar.jar.has("rt")).toBe(false);
  });
});

describe("options and events", () => {
  it("rejects unusable options with invalid_configuration", () => {
    const attempts: Array<() => unknown> = [
      () => createTokenClient({ baseUrl: server.url, transport: "body" }),
      () => createTokenClient({ baseUrl: server.url, transport: "carrier-pigeon" as never }),
      () => createTokenClient({ baseUrl: server.url, refreshSkew: -1 }),
      () => createTokenClient({ baseUrl: server.url, timeout: Number.NaN }),
      () => createTokenClient({ baseUrl: "not a url" }),
      () => createTokenClient(), // Node has no page to resolve /auth/... against
    ];
    for (const attempt of attempts) {
      expect(attempt).toThrow(TokenClientError);
      try {
        attempt();
      } catch (error) {
        expect(error).toMatchObject({ code: "invalid_configuration" });
      }
    }
  });

  it("accepts absolute endpoints without a baseUrl", async () => {
    const client = createTokenClient({
      transport: "body",
      storage: memoryStorage(server.issueRefreshToken()),
      endpoints: {
        login: `${server.url}/auth/login`,
        refresh: `${server.url}/auth/token/refresh`,
        revoke: `${server.url}/auth/token/revoke`,
      },
    });
    expect((await client.fetch(`${server.url}/api/me`)).status).toBe(200);
  });

  it("unsubscribes listeners and survives a throwing one", async () => {
    const storage = memoryStorage(server.issueRefreshToken());
    const client = createTokenClient({ baseUrl: server.url, transport: "body", storage });
    const seen: string[] = [];
    const reported: unknown[] = [];
    const original = globalThis.reportError;
    globalThis.reportError = (error: unknown) => reported.push(error);
    try {
      const listener = () => seen.push("off");
      client.on("refreshed", () => {
        throw new Error("listener bug");
      });
      client.on("refreshed", listener);
      const unsubscribe = client.on("refreshed", () => seen.push("on"));
      client.off("refreshed", listener);
      await client.refresh();
      unsubscribe();
      await client.refresh();
    } finally {
      globalThis.reportError = original;
    }
    expect(seen).toEqual(["on"]);
    expect(reported).toHaveLength(2);
    expect(server.rotations).toBe(2);
  });
});

describe("cross-tab fallback without Web Locks (Node has BroadcastChannel only)", () => {
  const once = <T>(subscribe: (listener: (event: T) => void) => () => void) =>
    new Promise<T>((resolve) => {
      const off = subscribe((event) => {
        off();
        resolve(event);
      });
    });

  it("shares login and logout between clients that opt in, on one channel", async () => {
    const channelName = `tokens-test-${Math.random()}`;
    const storage = memoryStorage();
    const options = {
      baseUrl: server.url,
      transport: "body" as const,
      storage,
      crossTab: { channelName },
    };
    const first = createTokenClient(options);
    const second = createTokenClient(options);
    try {
      const learnt = once<RefreshedEvent>((listener) => second.on("refreshed", listener));
      const login = await first.login({ username: "demo", password: "demo" });
      expect(await learnt).toEqual({ expiresAt: login.expiresAt, source: "other-tab" });
      expect(await second.getAccessToken()).toBe(login.accessToken);
      expect(server.refreshes).toBe(0);

      const ended = once<SessionEndedEvent>((listener) => second.on("sessionEnded", listener));
      await first.logout();
      expect(await ended).toEqual({ error: "logout", source: "other-tab" });
      expect(second.state).toBe("ended");
    } finally {
      first.dispose();
      second.dispose();
    }
  });

  it("keeps clients apart by default outside browsers", async () => {
    const channelName = `tokens-test-${Math.random()}`;
    const opted = (storage = memoryStorage()) =>
      createTokenClient({
        baseUrl: server.url,
        transport: "body",
        storage,
        crossTab: { channelName },
      });
    const listener = opted();
    const heard: RefreshedEvent[] = [];
    listener.on("refreshed", (event) => heard.push(event));
    // Not opted in: logs in without announcing it.
    const silent = createTokenClient({
      baseUrl: server.url,
      transport: "body",
      storage: memoryStorage(),
    });
    await silent.login({ username: "demo", password: "demo" });
    // An opted-in client's announcement, sent afterwards, proves the channel delivers.
    const probe = opted();
    const delivered = once<RefreshedEvent>((subscribe) => listener.on("refreshed", subscribe));
    const login = await probe.login({ username: "demo", password: "demo" });
    await delivered;
    probe.dispose();
    listener.dispose();
    expect(heard).toEqual([{ expiresAt: login.expiresAt, source: "other-tab" }]);
  });
});

describe("runtimes without browser APIs (React Native-like)", () => {
  it("falls back to single-tab behaviour when BroadcastChannel and Web Locks are missing", async () => {
    const original = globalThis.BroadcastChannel;
    // @ts-expect-error: removed for the duration of the test, as React Native lacks it
    delete globalThis.BroadcastChannel;
    try {
      expect(typeof (globalThis as { navigator?: { locks?: unknown } }).navigator?.locks).toBe(
        "undefined",
      );
      const storage = memoryStorage(server.issueRefreshToken());
      const client = createTokenClient({
        baseUrl: server.url,
        transport: "body",
        storage,
        crossTab: true,
      });
      const responses = await Promise.all(Array.from({ length: 5 }, () => client.fetch("/api/me")));
      expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
      expect(server.refreshes).toBe(1);
      client.dispose();
    } finally {
      globalThis.BroadcastChannel = original;
    }
  });
});
