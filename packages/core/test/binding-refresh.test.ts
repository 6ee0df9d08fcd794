import { memoryStore } from "@tokens/memory";
import { describe, expect, it } from "vitest";
import { createTokens, generateSigningKey, type TokensEvent } from "../src/index.js";

async function setup(onMismatch: "reject" | "revoke" = "reject") {
  const events: TokensEvent[] = [];
  const tokens = createTokens({
    issuer: "https://auth.example.test",
    audience: "api",
    keys: [await generateSigningKey("EdDSA")],
    store: memoryStore(),
    binding: { onMismatch },
    onEvent: (e) => {
      events.push(e);
    },
  });
  const phone = { deviceId: "phone-1" };
  const first = await tokens.issue({ subject: "carol", client: phone });
  return { tokens, events, phone, first };
}

describe("client binding on refresh", () => {
  it("refuses the live token from another device and keeps the session (reject)", async () => {
    const { tokens, events, phone, first } = await setup();
    await expect(
      tokens.refresh(first.refresh_token, { client: { deviceId: "laptop" } }),
    ).rejects.toMatchObject({
      reason: "binding_mismatch",
    });
    expect(events.at(-1)).toMatchObject({
      type: "binding_mismatch",
      fields: ["deviceId"],
      revoked: false,
    });
    await expect(tokens.refresh(first.refresh_token, { client: phone })).resolves.toBeTruthy();
  });

  it("revokes the session on a mismatch when the policy says so", async () => {
    const { tokens, phone, first } = await setup("revoke");
    await expect(tokens.refresh(first.refresh_token, { client: {} })).rejects.toMatchObject({
      reason: "binding_mismatch",
    });
    await expect(tokens.refresh(first.refresh_token, { client: phone })).rejects.toMatchObject({
      reason: "revoked",
    });
  });

  it("treats the predecessor from another device, even within grace, as reuse", async () => {
    const { tokens, events, phone, first } = await setup();
    const second = await tokens.refresh(first.refresh_token, { client: phone });
    await expect(
      tokens.refresh(first.refresh_token, { client: { deviceId: "thief" } }),
    ).rejects.toMatchObject({
      reason: "reused",
    });
    expect(events.some((e) => e.type === "reuse_detected")).toBe(true);
    await expect(tokens.refresh(second.refresh_token, { client: phone })).rejects.toMatchObject({
      reason: "revoked",
    });
  });

  it("gives the same successor to the predecessor from the same device within grace", async () => {
    const { tokens, phone, first } = await setup();
    const second = await tokens.refresh(first.refresh_token, { client: phone });
    const again = await tokens.refresh(first.refresh_token, { client: phone });
    expect(again.refresh_token).toBe(second.refresh_token);
  });
});
