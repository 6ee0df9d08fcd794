import { memoryStore } from "@tokens/memory";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type BindingPolicy,
  type ClientContext,
  createTokens,
  generateSigningKey,
  type SigningKey,
  type TokenStore,
  type TokensConfig,
  type TokensEvent,
} from "../src/index.js";
import { bindingKey, bindingMismatches } from "../src/internal/binding.js";

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

/** The memory store with its calls counted; `live: false` hides `rotateLive`. */
function counted(inner: TokenStore, live: boolean): { store: TokenStore; calls: Counts } {
  const calls: Counts = {};
  const store: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(inner)) {
    if (name === "rotateLive" && !live) continue;
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

/** Events without their random parts, to compare the two paths. */
const shapes = (events: TokensEvent[]) =>
  events.map((event) => ({ ...event, sessionId: "·", subject: "·" }));

describe("refresh with and without the store's rotateLive", () => {
  it("the live token from its client: one rotateLive call, no read, the same response and token_rotated event", async () => {
    const outcomes = [];
    for (const live of [true, false]) {
      const { store, calls } = counted(memoryStore(), live);
      const { tokens, events, advance } = instance(store);
      const phone: ClientContext = { deviceId: "phone-1", userAgent: "App/1" };
      const first = await tokens.issue({ subject: "alice", clientId: "mobile", client: phone });
      advance(60_000);
      const second = await tokens.refresh(first.refresh_token, {
        client: phone,
        clientId: "mobile",
      });
      advance(60_000);
      const third = await tokens.refresh(second.refresh_token, { client: phone });
      const claims = await tokens.verifyAccessToken(third.access_token);
      outcomes.push({
        calls,
        events: shapes(events),
        session: { ...third.session, id: "·" },
        claims: {
          sub: claims.sub,
          client_id: claims.client_id,
          sid: claims.sid === first.session.id,
        },
      });
    }
    const [live, fallback] = outcomes;
    expect(live?.calls).toMatchObject({ rotateLive: 2 });
    expect(live?.calls.findToken).toBeUndefined();
    expect(live?.calls.rotate).toBeUndefined();
    expect(fallback?.calls).toMatchObject({ findToken: 2, rotate: 2 });
    expect(live?.events).toEqual(fallback?.events);
    expect(live?.events.filter((e) => e.type === "token_rotated").map((e) => e.generation)).toEqual(
      [1, 2],
    );
    expect(live?.session).toEqual(fallback?.session);
    expect(live?.claims).toEqual({ sub: "alice", client_id: "mobile", sid: true });
  });

  const refusals: Array<{
    name: string;
    config?: Partial<TokensConfig>;
    run: (t: ReturnType<typeof instance>) => Promise<unknown>;
  }> = [
    {
      name: "a spent token within grace (grace replay)",
      run: async ({ tokens }) => {
        const first = await tokens.issue({ subject: "s" });
        const second = await tokens.refresh(first.refresh_token);
        const again = await tokens.refresh(first.refresh_token);
        expect(again.refresh_token).toBe(second.refresh_token);
      },
    },
    {
      name: "a spent token after grace (reuse)",
      run: async ({ tokens, advance }) => {
        const first = await tokens.issue({ subject: "s" });
        await tokens.refresh(first.refresh_token);
        advance(60_000);
        await tokens.refresh(first.refresh_token);
      },
    },
    {
      name: "an unknown token",
      run: ({ tokens }) => tokens.refresh(`tokens_rt_${"A".repeat(43)}`),
    },
    {
      name: "a revoked session",
      run: async ({ tokens }) => {
        const first = await tokens.issue({ subject: "s" });
        await tokens.revokeSession(first.session.id);
        await tokens.refresh(first.refresh_token);
      },
    },
    {
      name: "an idle-expired session",
      config: { refreshIdleTtl: 3600 },
      run: async ({ tokens, advance }) => {
        const first = await tokens.issue({ subject: "s" });
        advance(3_600_000);
        await tokens.refresh(first.refresh_token);
      },
    },
    {
      name: "a session past its lifetime",
      config: { refreshIdleTtl: 3600, sessionMaxAge: 3600 },
      run: async ({ tokens, advance }) => {
        const first = await tokens.issue({ subject: "s" });
        advance(3_600_000);
        await tokens.refresh(first.refresh_token);
      },
    },
    {
      name: "another client_id",
      run: async ({ tokens }) => {
        const first = await tokens.issue({ subject: "s", clientId: "web" });
        await tokens.refresh(first.refresh_token, { clientId: "mobile" });
      },
    },
    {
      name: "another device (reject)",
      run: async ({ tokens }) => {
        const first = await tokens.issue({ subject: "s", client: { deviceId: "d1" } });
        await tokens.refresh(first.refresh_token, { client: { deviceId: "d2" } });
      },
    },
    {
      name: "no device for a session bound to one (revoke)",
      config: { binding: { onMismatch: "revoke" } },
      run: async ({ tokens }) => {
        const first = await tokens.issue({ subject: "s", client: { deviceId: "d1" } });
        await tokens.refresh(first.refresh_token);
      },
    },
    {
      name: "a device for a session that recorded none (binds nothing: succeeds)",
      run: async ({ tokens }) => {
        const first = await tokens.issue({ subject: "s" });
        await tokens.refresh(first.refresh_token, { client: { deviceId: "d9" } });
      },
    },
    {
      name: "another user agent when only the device is compared (succeeds)",
      run: async ({ tokens }) => {
        const client = { deviceId: "d1", userAgent: "App/1" };
        const first = await tokens.issue({ subject: "s", client });
        await tokens.refresh(first.refresh_token, { client: { ...client, userAgent: "App/2" } });
      },
    },
  ];
  for (const refusal of refusals) {
    it(`${refusal.name}: the same outcome and events on both paths`, async () => {
      const outcomes = [];
      for (const live of [true, false]) {
        const { store } = counted(memoryStore(), live);
        const t = instance(store, refusal.config);
        const outcome = await refusal.run(t).then(
          () => "ok",
          (error: { reason?: string }) => error.reason,
        );
        outcomes.push({ outcome, events: shapes(t.events) });
      }
      expect(outcomes[0]).toEqual(outcomes[1]);
    });
  }

  it("an IP binding policy never calls rotateLive", async () => {
    const { store, calls } = counted(memoryStore(), true);
    const { tokens } = instance(store, { binding: { ip: "exact" } });
    const client = { deviceId: "d1", ip: "203.0.113.7" };
    const first = await tokens.issue({ subject: "s", client });
    await tokens.refresh(first.refresh_token, { client });
    await expect(
      tokens.refresh((await tokens.issue({ subject: "s", client })).refresh_token, {
        client: { ...client, ip: "198.51.100.1" },
      }),
    ).rejects.toMatchObject({ reason: "binding_mismatch" });
    expect(calls.rotateLive).toBeUndefined();
    expect(calls.rotate).toBe(1);
  });

  it("a binding policy tightened after issue is enforced: the recorded device must now be presented", async () => {
    const { store, calls } = counted(memoryStore(), true);
    const loose = instance(store, { binding: { deviceId: "off" } });
    const first = await loose.tokens.issue({ subject: "s", client: { deviceId: "d1" } });
    const strict = instance(store);
    await expect(strict.tokens.refresh(first.refresh_token)).rejects.toMatchObject({
      reason: "binding_mismatch",
    });
    await expect(
      strict.tokens.refresh(first.refresh_token, { client: { deviceId: "d1" } }),
    ).resolves.toMatchObject({ session: { id: first.session.id } });
    expect(calls.rotateLive).toBe(2);
    expect(calls.rotate).toBe(1);
  });

  it("a session stored without a bindingKey (a row from before the column) refreshes through the full path", async () => {
    const inner = memoryStore();
    // A store that drops the key on the way in, as a row migrated from an older schema has none.
    const { store, calls } = counted(
      {
        ...inner,
        createSession: (session, token) =>
          inner.createSession({ ...session, bindingKey: null }, token),
      },
      true,
    );
    const { tokens } = instance(store);
    const first = await tokens.issue({ subject: "s", client: { deviceId: "d1" } });
    await expect(tokens.refresh(first.refresh_token)).rejects.toMatchObject({
      reason: "binding_mismatch",
    });
    await expect(
      tokens.refresh(first.refresh_token, { client: { deviceId: "d1" } }),
    ).resolves.toMatchObject({ session: { id: first.session.id } });
    expect(calls).toMatchObject({ rotateLive: 2, findToken: 2, rotate: 1 });
  });
});
