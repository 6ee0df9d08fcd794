import { memoryStore } from "@tokens/memory";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type BindingPolicy,
  type ClientContext,
  createTokens,
  generateSigningKey,
  type RefreshOptions,
  type SigningKey,
  type TokenStore,
  type TokensConfig,
  type TokensEvent,
} from "../src/index.js";
import { bindingKey, bindingMismatches } from "../src/internal/binding.js";
import { unknownRefreshToken } from "../src/testing/harness.js";

describe("bindingKey", () => {
  const field = fc.option(fc.constantFrom("", "a", "b", "Mozilla/5.0"), { nil: undefined });
  const context = fc.option(
    fc.record({ deviceId: field, userAgent: field, ip: field }, { requiredKeys: [] }),
    { nil: null },
  );
  const policy = fc.record({
    deviceId: fc.constantFrom("off", "exact"),
    userAgent: fc.constantFrom("off", "exact"),
    ip: fc.constant("off"),
    onMismatch: fc.constant("reject"),
  }) as fc.Arbitrary<Required<BindingPolicy>>;

  it("equal keys mean no binding mismatch, even when the policy changed between issue and refresh", () => {
    fc.assert(
      fc.property(context, policy, context, policy, (recorded, atIssue, presented, atRefresh) => {
        const issued = bindingKey(recorded, atIssue);
        const refreshed = bindingKey(presented ?? undefined, atRefresh);
        if (issued === refreshed) {
          expect(bindingMismatches(recorded, presented ?? undefined, atRefresh)).toEqual([]);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("is equal for the same context under the same policy, and null only when the policy compares nothing exactly", () => {
    fc.assert(
      fc.property(context, policy, (client, rules) => {
        expect(bindingKey(client, rules)).toBe(bindingKey(client ? { ...client } : null, rules));
        const comparesNothing = rules.deviceId === "off" && rules.userAgent === "off";
        expect(bindingKey(client, rules) === null).toBe(comparesNothing);
      }),
    );
  });

  it("differs when a compared field differs or is missing, and ignores fields the policy does not compare", () => {
    const rules = { deviceId: "exact", userAgent: "off", ip: "off", onMismatch: "reject" } as const;
    const key = bindingKey({ deviceId: "d1", userAgent: "x" }, rules);
    expect(bindingKey({ deviceId: "d1", userAgent: "y", ip: "10.0.0.1" }, rules)).toBe(key);
    expect(bindingKey({ deviceId: "d2", userAgent: "x" }, rules)).not.toBe(key);
    expect(bindingKey({ userAgent: "x" }, rules)).not.toBe(key);
    // Recorded at issue, not compared then: a refresh that now compares it cannot match.
    const off = { ...rules, deviceId: "off" } as const;
    expect(bindingKey({ deviceId: "d1" }, off)).not.toBe(bindingKey({}, rules));
  });
});

type Counts = Record<string, number>;

/** The memory store with its calls counted. */
function counted(inner: TokenStore): { store: TokenStore; calls: Counts } {
  const calls: Counts = {};
  const store: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(inner)) {
    store[name] = (...args: unknown[]) => {
      calls[name] = (calls[name] ?? 0) + 1;
      return (method as (...a: unknown[]) => Promise<unknown>).apply(inner, args);
    };
  }
  return { store: store as unknown as TokenStore, calls };
}

let keys: SigningKey[];
beforeAll(async () => {
  keys = [await generateSigningKey("EdDSA", { kid: "k1" })];
});

function instance(store: TokenStore, config: Partial<TokensConfig> = {}) {
  const events: TokensEvent[] = [];
  let now = Date.UTC(2026, 0, 1);
  const tokens = createTokens({
    issuer: "https://auth.example.test",
    audience: "api",
    keys,
    store,
    now: () => now,
    onEvent: (event) => {
      events.push(event);
    },
    ...config,
  });
  return {
    tokens,
    events,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

/** The store calls one refresh makes, after `prepare` has run with its own calls. */
async function callsOf(
  config: Partial<TokensConfig>,
  prepare: (t: ReturnType<typeof instance>) => Promise<string>,
  options: RefreshOptions = {},
): Promise<{ calls: Counts; outcome: string }> {
  const { store, calls } = counted(memoryStore());
  const t = instance(store, config);
  const token = await prepare(t);
  for (const name of Object.keys(calls)) delete calls[name];
  const outcome = await t.tokens.refresh(token, options).then(
    () => "ok",
    (error: { reason?: string }) => String(error.reason),
  );
  return { calls, outcome };
}

describe("what a refresh asks of the store", () => {
  it("the live token from its client: one rotate call and nothing else, with the same response as ever", async () => {
    const { store, calls } = counted(memoryStore());
    const { tokens, events, advance } = instance(store);
    const phone: ClientContext = { deviceId: "phone-1", userAgent: "App/1" };
    const first = await tokens.issue({ subject: "alice", clientId: "mobile", client: phone });
    expect(calls).toEqual({ createSession: 1 });
    advance(60_000);
    const second = await tokens.refresh(first.refresh_token, { client: phone, clientId: "mobile" });
    advance(60_000);
    const third = await tokens.refresh(second.refresh_token, { client: phone });
    expect(calls).toEqual({ createSession: 1, rotate: 2 });
    expect(events.filter((e) => e.type === "token_rotated").map((e) => e.generation)).toEqual([
      1, 2,
    ]);
    const claims = await tokens.verifyAccessToken(third.access_token);
    expect(claims).toMatchObject({ sub: "alice", client_id: "mobile", sid: first.session.id });
    expect(third.session).toMatchObject({ id: first.session.id, client: phone });
  });

  const cases: Array<{
    name: string;
    config?: Partial<TokensConfig>;
    options?: RefreshOptions;
    prepare: (t: ReturnType<typeof instance>) => Promise<string>;
    outcome: string;
    calls: Counts;
  }> = [
    {
      name: "a forged token naming a real session: refused before the store",
      prepare: async ({ tokens }) => {
        const first = await tokens.issue({ subject: "s" });
        return unknownRefreshToken(first.session.id, 0);
      },
      outcome: "not_found",
      calls: {},
    },
    {
      name: "a spent token within grace: the refused write, one read (grace replay)",
      prepare: async ({ tokens }) => {
        const first = await tokens.issue({ subject: "s" });
        await tokens.refresh(first.refresh_token);
        return first.refresh_token;
      },
      outcome: "ok",
      calls: { rotate: 1, getSession: 1 },
    },
    {
      name: "a spent token after grace: the refused write, one read, the revocation",
      prepare: async ({ tokens, advance }) => {
        const first = await tokens.issue({ subject: "s" });
        await tokens.refresh(first.refresh_token);
        advance(60_000);
        return first.refresh_token;
      },
      outcome: "reused",
      calls: { rotate: 1, getSession: 1, revokeSession: 1 },
    },
    {
      name: "a revoked session",
      prepare: async ({ tokens }) => {
        const first = await tokens.issue({ subject: "s" });
        await tokens.revokeSession(first.session.id);
        return first.refresh_token;
      },
      outcome: "revoked",
      calls: { rotate: 1, getSession: 1 },
    },
    {
      name: "an idle-expired session",
      config: { refreshIdleTtl: 3600 },
      prepare: async ({ tokens, advance }) => {
        const first = await tokens.issue({ subject: "s" });
        advance(3_600_000);
        return first.refresh_token;
      },
      outcome: "expired",
      calls: { rotate: 1, getSession: 1 },
    },
    {
      name: "another client_id",
      options: { clientId: "mobile" },
      prepare: async ({ tokens }) =>
        (await tokens.issue({ subject: "s", clientId: "web" })).refresh_token,
      outcome: "client_mismatch",
      calls: { rotate: 1, getSession: 1 },
    },
    {
      name: "another device",
      options: { client: { deviceId: "d2" } },
      prepare: async ({ tokens }) =>
        (await tokens.issue({ subject: "s", client: { deviceId: "d1" } })).refresh_token,
      outcome: "binding_mismatch",
      calls: { rotate: 1, getSession: 1 },
    },
    {
      name: "a device for a session that recorded none (binds nothing): the keys differ, so read, then write",
      options: { client: { deviceId: "d9" } },
      prepare: async ({ tokens }) => (await tokens.issue({ subject: "s" })).refresh_token,
      outcome: "ok",
      calls: { rotate: 2, getSession: 1 },
    },
    {
      name: "an IP binding policy: the session is read first, then written",
      config: { binding: { ip: "exact" } },
      options: { client: { ip: "203.0.113.7" } },
      prepare: async ({ tokens }) =>
        (await tokens.issue({ subject: "s", client: { ip: "203.0.113.7" } })).refresh_token,
      outcome: "ok",
      calls: { getSession: 1, rotate: 1 },
    },
    {
      name: "an IP binding policy, another network: read, refused without a write",
      config: { binding: { ip: "exact" } },
      options: { client: { ip: "198.51.100.1" } },
      prepare: async ({ tokens }) =>
        (await tokens.issue({ subject: "s", client: { ip: "203.0.113.7" } })).refresh_token,
      outcome: "binding_mismatch",
      calls: { getSession: 1 },
    },
  ];
  for (const { name, config = {}, options, prepare, outcome, calls } of cases) {
    it(name, async () => {
      expect(await callsOf(config, prepare, options)).toEqual({ outcome, calls });
    });
  }

  it("a binding policy tightened after issue is enforced: the recorded device must now be presented", async () => {
    const { store, calls } = counted(memoryStore());
    const loose = instance(store, { binding: { deviceId: "off" } });
    const first = await loose.tokens.issue({ subject: "s", client: { deviceId: "d1" } });
    const strict = instance(store);
    await expect(strict.tokens.refresh(first.refresh_token)).rejects.toMatchObject({
      reason: "binding_mismatch",
    });
    await expect(
      strict.tokens.refresh(first.refresh_token, { client: { deviceId: "d1" } }),
    ).resolves.toMatchObject({ session: { id: first.session.id } });
    // The key recorded under the loose policy never matches the strict one: each refresh is a
    // refused write and a read; the second, having compared in full, writes without the key.
    expect(calls).toMatchObject({ rotate: 3, getSession: 2 });
  });
});

describe("refresh tokens across a signing-key rotation", () => {
  it("a token tagged under the retired key refreshes while that key is configured, and its successor is tagged under the active one", async () => {
    const store = memoryStore();
    const [old, next] = [keys[0] as SigningKey, await generateSigningKey("EdDSA", { kid: "k2" })];
    const before = instance(store, { keys: [old] });
    const pair = await before.tokens.issue({ subject: "s" });

    const during = instance(store, { keys: [next, old] });
    const rotated = await during.tokens.refresh(pair.refresh_token);
    // Only the new key is left: the successor still refreshes, a token tagged under the old
    // key does not (and its reuse can no longer be told from a forgery).
    const after = instance(store, { keys: [next] });
    await expect(after.tokens.refresh(pair.refresh_token)).rejects.toMatchObject({
      reason: "not_found",
    });
    await expect(after.tokens.refresh(rotated.refresh_token)).resolves.toMatchObject({
      session: { id: pair.session.id },
    });
  });
});
