import { describe, expect, it } from "vitest";
import { dpopKey } from "../src/testing/index.js";
import { API_URL, dpopSetup, expectProofRefused, expectRefusal } from "./support/dpop.js";

async function boundToken() {
  const setup = await dpopSetup();
  const issued = await setup.tokens.issue({
    subject: "alice",
    dpop: await setup.atTokenEndpoint(),
  });
  return { ...setup, accessToken: issued.access_token };
}

const expectTokenRefused = (
  promise: Promise<unknown>,
  reason: "dpop_required" | "invalid_claims",
) => expectRefusal(promise, "InvalidTokenError", "invalid_token", reason);

describe("verifyAccessToken with DPoP", () => {
  it("accepts a bound token under the DPoP scheme with a proof carrying its ath", async () => {
    const { tokens, key, accessToken, atResource } = await boundToken();
    const claims = await tokens.verifyAccessToken(accessToken, {
      dpop: await atResource(accessToken),
    });
    expect(claims.cnf).toEqual({ jkt: key.jkt });
    expect(claims.sub).toBe("alice");
  });

  it("refuses a proof whose ath is another token's, or that has none", async () => {
    const { tokens, accessToken, atResource } = await boundToken();
    const other = await tokens.issue({ subject: "alice" });
    await expectProofRefused(
      tokens.verifyAccessToken(accessToken, {
        dpop: await atResource(accessToken, undefined, { accessToken: other.access_token }),
      }),
    );
    await expectProofRefused(
      tokens.verifyAccessToken(accessToken, {
        dpop: await atResource(accessToken, undefined, { claims: { ath: undefined } }),
      }),
    );
  });

  it("refuses a proof made with another key, even with the right ath", async () => {
    const { tokens, accessToken, atResource } = await boundToken();
    await expectProofRefused(
      tokens.verifyAccessToken(accessToken, {
        dpop: await atResource(accessToken, await dpopKey()),
      }),
      "dpop_key_mismatch",
    );
  });

  it("refuses a replayed resource proof and one for another URL or method", async () => {
    const { tokens, accessToken, atResource } = await boundToken();
    const dpop = await atResource(accessToken);
    await tokens.verifyAccessToken(accessToken, { dpop });
    await expectProofRefused(tokens.verifyAccessToken(accessToken, { dpop }), "dpop_replayed");
    await expectProofRefused(
      tokens.verifyAccessToken(accessToken, {
        dpop: await atResource(accessToken, undefined, { htu: `${API_URL}/other` }),
      }),
    );
    await expectProofRefused(
      tokens.verifyAccessToken(accessToken, {
        dpop: await atResource(accessToken, undefined, { htm: "DELETE" }),
      }),
    );
  });

  it("refuses a bound token under the Bearer scheme or with no DPoP at all", async () => {
    const { tokens, accessToken, atResource } = await boundToken();
    const dpop = await atResource(accessToken);
    await expectTokenRefused(
      tokens.verifyAccessToken(accessToken, { dpop: { ...dpop, scheme: "Bearer" } }),
      "dpop_required",
    );
    await expectTokenRefused(tokens.verifyAccessToken(accessToken), "dpop_required");
  });

  it("refuses a bound token under the DPoP scheme without a proof", async () => {
    const { tokens, accessToken } = await boundToken();
    await expectProofRefused(
      tokens.verifyAccessToken(accessToken, {
        dpop: { proof: null, method: "GET", url: API_URL, scheme: "DPoP" },
      }),
      "dpop_required",
    );
  });

  it("refuses an unbound token under the DPoP scheme, accepts it under Bearer", async () => {
    const setup = await dpopSetup();
    const { access_token: token } = await setup.tokens.issue({ subject: "bob" });
    await expectTokenRefused(
      setup.tokens.verifyAccessToken(token, { dpop: await setup.atResource(token) }),
      "invalid_claims",
    );
    await expect(
      setup.tokens.verifyAccessToken(token, {
        dpop: { proof: undefined, method: "GET", url: API_URL, scheme: "Bearer" },
      }),
    ).resolves.toMatchObject({ sub: "bob" });
  });

  it("refuses an unknown scheme as a bad request", async () => {
    const { tokens, accessToken, atResource } = await boundToken();
    const dpop = await atResource(accessToken);
    await expect(
      tokens.verifyAccessToken(accessToken, { dpop: { ...dpop, scheme: "MAC" as never } }),
    ).rejects.toMatchObject({ code: "invalid_request" });
  });
});
