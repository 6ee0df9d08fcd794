import { memoryStore } from "@tokens/memory";
import { describe, expect, it } from "vitest";
import {
  ConfigurationError,
  createTokens,
  generateSigningKey,
  type TokensConfig,
} from "../src/index.js";

const base = async (): Promise<TokensConfig> => ({
  issuer: "https://auth.example.test",
  audience: "api",
  keys: [await generateSigningKey("EdDSA", { kid: "k" })],
  store: memoryStore(),
});

describe("configuration", () => {
  it("applies the documented defaults", async () => {
    const { config } = createTokens(await base());
    expect(config).toMatchObject({
      accessTokenTtl: 900,
      refreshIdleTtl: 604_800,
      sessionMaxAge: 2_592_000,
      reuseGrace: 10,
      clockTolerance: 5,
      defaultClientId: "default",
      binding: { deviceId: "exact", userAgent: "off", ip: "off", onMismatch: "reject" },
    });
    expect(config.audience).toEqual(["api"]);
  });

  it.each<[string, (c: TokensConfig) => Partial<TokensConfig>]>([
    ["empty issuer", () => ({ issuer: "" })],
    ["no audience", () => ({ audience: [] })],
    ["no keys", () => ({ keys: [] })],
    ["no store", () => ({ store: undefined as never })],
    ["negative ttl", () => ({ accessTokenTtl: -1 })],
    ["NaN idle ttl", () => ({ refreshIdleTtl: Number.NaN })],
    ["grace above 300 s", () => ({ reuseGrace: 301 })],
    ["zero session cap", () => ({ maxSessionsPerSubject: 0 })],
    ["unknown active key", () => ({ activeKeyId: "nope" })],
    ["duplicate kid", (c) => ({ keys: [c.keys[0], c.keys[0]] as TokensConfig["keys"] })],
    [
      "public-only key",
      (c) => ({ keys: [{ ...c.keys[0], d: undefined }] as TokensConfig["keys"] }),
    ],
    [
      "alg/kty mismatch",
      (c) => ({ keys: [{ ...c.keys[0], alg: "ES256" }] as TokensConfig["keys"] }),
    ],
    [
      "unsupported alg",
      (c) => ({ keys: [{ ...c.keys[0], alg: "none" }] as unknown as TokensConfig["keys"] }),
    ],
    ["short HS256 key", () => ({ keys: [{ kty: "oct", k: "c2hvcnQ", kid: "h", alg: "HS256" }] })],
  ])("rejects %s with ConfigurationError", async (_name, change) => {
    const config = await base();
    expect(() => createTokens({ ...config, ...change(config) })).toThrow(ConfigurationError);
  });

  it("accepts a grace of 0 (strict mode)", async () => {
    expect(createTokens({ ...(await base()), reuseGrace: 0 }).config.reuseGrace).toBe(0);
  });

  it("caps the idle lifetime at the absolute lifetime", async () => {
    const { config } = createTokens({
      ...(await base()),
      refreshIdleTtl: 7200,
      sessionMaxAge: 3600,
    });
    expect(config.refreshIdleTtl).toBe(3600);
  });
});
