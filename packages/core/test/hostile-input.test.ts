import { memoryStore } from "@tokens/memory";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { createTokens, generateSigningKey, type Tokens, TokensError } from "../src/index.js";
import { unknownRefreshToken } from "../src/testing/harness.js";

let tokens: Tokens;

beforeAll(async () => {
  tokens = createTokens({
    issuer: "https://auth.example.test",
    audience: "api",
    keys: [await generateSigningKey("EdDSA")],
    store: memoryStore(),
  });
});

const garbage = [
  undefined,
  null,
  0,
  1.5,
  true,
  {},
  [],
  Symbol("x"),
  () => 1,
  "",
  " ",
  "x".repeat(1_000_000),
  "tokens_rt_",
  `tokens_rt_${"A".repeat(91)}\n`,
  "\u0000".repeat(53),
];

describe("hostile input gets a typed error, never a crash", () => {
  it.each(garbage.map((g, i) => [i, g]))("refresh(#%i)", async (_i, input) => {
    const error = await tokens.refresh(input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokensError);
    expect(["invalid_request", "invalid_grant"]).toContain((error as TokensError).code);
    expect((error as TokensError).reason).toBe("malformed");
  });

  it("refresh of a well-formed unknown token is invalid_grant/not_found", async () => {
    await expect(tokens.refresh(unknownRefreshToken())).rejects.toMatchObject({
      code: "invalid_grant",
      reason: "not_found",
    });
  });

  it.each(garbage.map((g, i) => [i, g]))("revoke(#%i) is a no-op", async (_i, input) => {
    await expect(tokens.revoke(input)).resolves.toBeUndefined();
  });

  it.each<[string, unknown]>([
    ["no options", undefined],
    ["empty subject", { subject: "" }],
    ["numeric subject", { subject: 42 }],
    ["huge subject", { subject: "x".repeat(100_000) }],
    ["array claims", { subject: "a", claims: [1] }],
    ["reserved claim", { subject: "a", claims: { sub: "root" } }],
    ["reserved sid", { subject: "a", claims: { sid: "x" } }],
    ["huge claims", { subject: "a", claims: { blob: "x".repeat(100_000) } }],
    [
      "cyclic claims",
      {
        subject: "a",
        claims: (() => {
          const o: Record<string, unknown> = {};
          o.self = o;
          return o;
        })(),
      },
    ],
    ["client not an object", { subject: "a", client: "phone" }],
    ["client field not a string", { subject: "a", client: { deviceId: 7 } }],
  ])("issue rejects %s with invalid_request", async (_name, options) => {
    await expect(tokens.issue(options as never)).rejects.toMatchObject({ code: "invalid_request" });
  });

  it("refresh rejects hostile options", async () => {
    const { refresh_token } = await tokens.issue({ subject: "opts" });
    await expect(tokens.refresh(refresh_token, { client: "x" } as never)).rejects.toMatchObject({
      code: "invalid_request",
    });
    await expect(tokens.refresh(refresh_token, { clientId: 5 } as never)).rejects.toMatchObject({
      code: "invalid_request",
    });
    // the session survived the hostile calls untouched
    await expect(tokens.refresh(refresh_token)).resolves.toMatchObject({ token_type: "Bearer" });
  });

  it("survives arbitrary values everywhere (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.anything(), fc.anything(), async (a, b) => {
        for (const call of [
          () => tokens.refresh(a, b as never),
          () => tokens.verifyAccessToken(a, b as never),
          () => tokens.issue(a as never),
          () => tokens.revokeSession(a as never),
          () => tokens.revokeSubject(a as never),
          () => tokens.listSessions(a as never),
        ]) {
          const outcome = await call().then(
            () => null,
            (e: unknown) => e,
          );
          if (outcome !== null) expect(outcome).toBeInstanceOf(TokensError);
        }
      }),
      { numRuns: 300 },
    );
  });
});
