import { createTokens, generateSigningKey } from "@tokens/core";
import { expect, test } from "vitest";
import { scratchStore as memoryStore } from "./scratch-store.js";

test("smoke", async () => {
  let now = Date.now();
  const events: string[] = [];
  for (const alg of ["EdDSA", "ES256", "RS256", "HS256"] as const) {
    const tokens = createTokens({
      issuer: "https://i",
      audience: "api",
      keys: [await generateSigningKey(alg, { kid: "k1" })],
      store: memoryStore(),
      now: () => now,
      onEvent: (e) => {
        events.push(e.type);
      },
    });
    const a = await tokens.issue({ subject: "u1", claims: { role: "x" } });
    expect(a.refresh_token).toMatch(/^tokens_rt_/);
    const c = await tokens.verifyAccessToken(a.access_token);
    expect(c.role).toBe("x");
    const b = await tokens.refresh(a.refresh_token);
    const b2 = await tokens.refresh(a.refresh_token);
    expect(b2.refresh_token).toBe(b.refresh_token);
    now += 11_000;
    await expect(tokens.refresh(a.refresh_token)).rejects.toMatchObject({ reason: "reused" });
    await expect(tokens.refresh(b.refresh_token)).rejects.toMatchObject({ reason: "revoked" });
    expect((await tokens.jwks()).keys.length).toBe(alg === "HS256" ? 0 : 1);
    const many = await Promise.all(
      Array.from({ length: 50 }, async () => {
        const x = await tokens.issue({ subject: "u2" });
        return x;
      }),
    );
    const r = await Promise.allSettled(
      Array.from({ length: 50 }, () => tokens.refresh(many[0]!.refresh_token)),
    );
    expect(
      new Set(r.map((x) => (x.status === "fulfilled" ? x.value.refresh_token : "err"))).size,
    ).toBe(1);
  }
  console.log(events.slice(0, 10));
});
