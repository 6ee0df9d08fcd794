import { memoryStore } from "@tokens/memory";
import { describe, expect, it } from "vitest";
import {
  ConfigurationError,
  createTokens,
  type DpopConfig,
  generateSigningKey,
  UseDpopNonceError,
} from "../src/index.js";
import { dpopSetup, expectProofRefused, expectRefusal } from "./support/dpop.js";

const SECOND = 1000;

describe("DPoP policies", () => {
  it("required per client: issue without a proof is refused for that client only", async () => {
    const setup = await dpopSetup({ dpop: { clients: { spa: "required" } } });
    await expectProofRefused(
      setup.tokens.issue({ subject: "alice", clientId: "spa" }),
      "dpop_required",
    );
    expect(setup.store.calls).toEqual([]);
    await expect(setup.tokens.issue({ subject: "alice", clientId: "web" })).resolves.toMatchObject({
      token_type: "Bearer",
    });
    await expect(
      setup.tokens.issue({
        subject: "alice",
        clientId: "spa",
        dpop: await setup.atTokenEndpoint(),
      }),
    ).resolves.toMatchObject({ token_type: "DPoP" });
  });

  it("off per client: the proof is ignored, the session is a Bearer one", async () => {
    const setup = await dpopSetup({ dpop: { clients: { legacy: "off" } } });
    const issued = await setup.tokens.issue({
      subject: "alice",
      clientId: "legacy",
      dpop: await setup.atTokenEndpoint(),
    });
    expect(issued.token_type).toBe("Bearer");
    expect((await setup.store.getSession(issued.session.id))?.dpopJkt).toBeNull();
  });

  it("off by default with one client allowed", async () => {
    const setup = await dpopSetup({ dpop: { policy: "off", clients: { mobile: "allowed" } } });
    const dpop = await setup.atTokenEndpoint();
    expect((await setup.tokens.issue({ subject: "a", dpop })).token_type).toBe("Bearer");
    const bound = await setup.tokens.issue({
      subject: "a",
      clientId: "mobile",
      dpop: await setup.atTokenEndpoint(),
    });
    expect(bound.token_type).toBe("DPoP");
  });

  it("per call: dpopPolicy overrides the client's, both ways", async () => {
    const setup = await dpopSetup({ dpop: { clients: { spa: "required" } } });
    await expectProofRefused(
      setup.tokens.issue({ subject: "alice", dpopPolicy: "required" }),
      "dpop_required",
    );
    const plain = await setup.tokens.issue({
      subject: "alice",
      clientId: "spa",
      dpopPolicy: "off",
      dpop: await setup.atTokenEndpoint(),
    });
    expect(plain.token_type).toBe("Bearer");
    await expect(
      setup.tokens.issue({ subject: "alice", dpopPolicy: "sometimes" as never }),
    ).rejects.toMatchObject({ code: "invalid_request" });
  });

  it("a client named like an Object.prototype member is a client like any other", async () => {
    const setup = await dpopSetup({ dpop: { policy: "required" } });
    await expectProofRefused(
      setup.tokens.issue({ subject: "alice", clientId: "constructor" }),
      "dpop_required",
    );
  });
});

describe("DPoP nonces", () => {
  it("demands the nonce with UseDpopNonceError carrying it; a proof with it then works", async () => {
    const setup = await dpopSetup({ dpop: { requireNonce: true } });
    const error = await expectRefusal(
      setup.tokens.issue({ subject: "alice", dpop: await setup.atTokenEndpoint() }),
      "UseDpopNonceError",
      "use_dpop_nonce",
      "dpop_nonce_required",
    );
    expect(error).toBeInstanceOf(UseDpopNonceError);
    const { nonce } = error as UseDpopNonceError;
    expect(nonce).toBe(setup.tokens.dpopNonce());
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const issued = await setup.tokens.issue({
      subject: "alice",
      dpop: await setup.atTokenEndpoint(setup.key, { nonce }),
    });
    expect(issued.token_type).toBe("DPoP");
    // The same on the refresh path and at the resource.
    await expectRefusal(
      setup.tokens.refresh(issued.refresh_token, {
        dpop: await setup.atTokenEndpoint(setup.key, { nonce: "made-up" }),
      }),
      "UseDpopNonceError",
      "use_dpop_nonce",
      "dpop_nonce_required",
    );
    await expectRefusal(
      setup.tokens.verifyAccessToken(issued.access_token, {
        dpop: await setup.atResource(issued.access_token),
      }),
      "UseDpopNonceError",
      "use_dpop_nonce",
      "dpop_nonce_required",
    );
    await expect(
      setup.tokens.verifyAccessToken(issued.access_token, {
        dpop: await setup.atResource(issued.access_token, setup.key, { nonce }),
      }),
    ).resolves.toMatchObject({ sub: "alice" });
  });

  it("accepts the previous slot's nonce, refuses an older one", async () => {
    const setup = await dpopSetup({ dpop: { requireNonce: true, nonceLifetime: 300 } });
    const old = setup.tokens.dpopNonce();
    setup.clock.advance(300 * SECOND);
    const current = setup.tokens.dpopNonce();
    expect(current).not.toBe(old);
    await expect(
      setup.tokens.issue({
        subject: "alice",
        dpop: await setup.atTokenEndpoint(setup.key, { nonce: old }),
      }),
    ).resolves.toBeTruthy();
    setup.clock.advance(300 * SECOND);
    const error = await expectRefusal(
      setup.tokens.issue({
        subject: "alice",
        dpop: await setup.atTokenEndpoint(setup.key, { nonce: old }),
      }),
      "UseDpopNonceError",
      "use_dpop_nonce",
      "dpop_nonce_required",
    );
    expect((error as UseDpopNonceError).nonce).toBe(setup.tokens.dpopNonce());
  });

  it("is stateless: instances with the same signing keys make the same nonce, others not", async () => {
    const one = await dpopSetup({ dpop: { requireNonce: true } });
    const two = await dpopSetup(
      { dpop: { requireNonce: true } },
      { keys: one.keys, clock: one.clock },
    );
    const stranger = await dpopSetup({ dpop: { requireNonce: true } }, { clock: one.clock });
    expect(two.tokens.dpopNonce()).toBe(one.tokens.dpopNonce());
    expect(stranger.tokens.dpopNonce()).not.toBe(one.tokens.dpopNonce());
  });
});

describe("DPoP configuration", () => {
  const base = async (dpop: unknown) => ({
    issuer: "https://auth.example.test",
    audience: "api",
    keys: [await generateSigningKey("EdDSA")],
    store: memoryStore(),
    dpop: dpop as DpopConfig,
  });

  it("applies the documented defaults", async () => {
    const { config } = createTokens(await base(undefined));
    expect(config.dpop).toEqual({
      policy: "allowed",
      clients: {},
      algorithms: ["ES256", "EdDSA", "ES384", "PS256", "RS256"],
      proofMaxAge: 60,
      requireNonce: false,
      nonceLifetime: 300,
      replayCacheSize: 100_000,
    });
  });

  it.each<[string, unknown]>([
    ["not an object", "on"],
    ["an unknown policy", { policy: "maybe" }],
    ["an unknown client policy", { clients: { spa: "yes" } }],
    ["clients as an array", { clients: ["spa"] }],
    ["alg none", { algorithms: ["none"] }],
    ["HS256", { algorithms: ["ES256", "HS256"] }],
    ["an unknown algorithm", { algorithms: ["ES257"] }],
    ["no algorithms", { algorithms: [] }],
    ["a zero proofMaxAge", { proofMaxAge: 0 }],
    ["a negative proofMaxAge", { proofMaxAge: -60 }],
    ["a zero nonceLifetime", { nonceLifetime: 0 }],
    ["a zero replayCacheSize", { replayCacheSize: 0 }],
    ["a fractional replayCacheSize", { replayCacheSize: 1.5 }],
    ["requireNonce as a string", { requireNonce: "yes" }],
  ])("refuses %s with ConfigurationError", async (_name, dpop) => {
    const config = await base(dpop);
    expect(() => createTokens(config)).toThrow(ConfigurationError);
  });
});
