import { describe, expect, it } from "vitest";
import { dpopKey } from "../src/testing/index.js";
import { dpopSetup, expectProofRefused, jwtClaims } from "./support/dpop.js";

const SECOND = 1000;

async function boundSession(config: Parameters<typeof dpopSetup>[0] = {}) {
  const setup = await dpopSetup(config);
  const issued = await setup.tokens.issue({
    subject: "alice",
    dpop: await setup.atTokenEndpoint(),
  });
  setup.store.calls.length = 0;
  return { ...setup, issued };
}

describe("refresh of a DPoP-bound session", () => {
  it("rotates with a proof made with the session's key; the new pair is bound too", async () => {
    const { tokens, key, issued, store, atTokenEndpoint } = await boundSession();
    const next = await tokens.refresh(issued.refresh_token, { dpop: await atTokenEndpoint() });
    expect(next.token_type).toBe("DPoP");
    expect(jwtClaims(next.access_token).cnf).toEqual({ jkt: key.jkt });
    // The fast path: one conditional write, no read.
    expect(store.calls).toEqual(["rotate"]);
    const again = await tokens.refresh(next.refresh_token, { dpop: await atTokenEndpoint() });
    expect((await store.getSession(again.session.id))?.dpopJkt).toBe(key.jkt);
  });

  it("without a proof: dpop_required, and the session is neither revoked nor counted as reuse", async () => {
    const { tokens, issued, events, atTokenEndpoint } = await boundSession();
    await expectProofRefused(tokens.refresh(issued.refresh_token), "dpop_required");
    await expectProofRefused(tokens.refresh(issued.refresh_token, {}), "dpop_required");
    expect(events.map((e) => e.type)).not.toContain("reuse_detected");
    expect(events.map((e) => e.type)).not.toContain("session_revoked");
    const next = await tokens.refresh(issued.refresh_token, { dpop: await atTokenEndpoint() });
    expect(next.token_type).toBe("DPoP");
  });

  it("with another key: dpop_key_mismatch, and the owner still refreshes", async () => {
    const { tokens, issued, events, atTokenEndpoint } = await boundSession();
    const thief = await dpopKey();
    await expectProofRefused(
      tokens.refresh(issued.refresh_token, { dpop: await atTokenEndpoint(thief) }),
      "dpop_key_mismatch",
    );
    expect(events.map((e) => e.type)).not.toContain("session_revoked");
    await expect(
      tokens.refresh(issued.refresh_token, { dpop: await atTokenEndpoint() }),
    ).resolves.toMatchObject({ token_type: "DPoP" });
  });

  it("a spent token without the key is refused for the key, not as reuse: nothing is revoked", async () => {
    const { tokens, issued, events, clock, atTokenEndpoint } = await boundSession();
    const second = await tokens.refresh(issued.refresh_token, { dpop: await atTokenEndpoint() });
    clock.advance(60 * SECOND);
    await expectProofRefused(tokens.refresh(issued.refresh_token), "dpop_required");
    await expectProofRefused(
      tokens.refresh(issued.refresh_token, { dpop: await atTokenEndpoint(await dpopKey()) }),
      "dpop_key_mismatch",
    );
    expect(events.map((e) => e.type)).not.toContain("reuse_detected");
    await expect(
      tokens.refresh(second.refresh_token, { dpop: await atTokenEndpoint() }),
    ).resolves.toBeTruthy();
  });

  it("a spent token with the key is still reuse: the session is revoked", async () => {
    const { tokens, issued, clock, atTokenEndpoint } = await boundSession();
    await tokens.refresh(issued.refresh_token, { dpop: await atTokenEndpoint() });
    clock.advance(60 * SECOND);
    await expect(
      tokens.refresh(issued.refresh_token, { dpop: await atTokenEndpoint() }),
    ).rejects.toMatchObject({ code: "invalid_grant", reason: "reused" });
  });

  it("the grace replay answers the same successor with the key, and needs the key", async () => {
    const { tokens, issued, events, atTokenEndpoint } = await boundSession({ reuseGrace: 10 });
    const second = await tokens.refresh(issued.refresh_token, { dpop: await atTokenEndpoint() });
    await expectProofRefused(tokens.refresh(issued.refresh_token), "dpop_required");
    await expectProofRefused(
      tokens.refresh(issued.refresh_token, { dpop: await atTokenEndpoint(await dpopKey()) }),
      "dpop_key_mismatch",
    );
    const replay = await tokens.refresh(issued.refresh_token, { dpop: await atTokenEndpoint() });
    expect(replay.refresh_token).toBe(second.refresh_token);
    expect(replay.token_type).toBe("DPoP");
    expect(events.map((e) => e.type)).toContain("grace_replay");
  });

  it("an invalid proof is refused before the store is asked", async () => {
    const { tokens, issued, store, atTokenEndpoint } = await boundSession();
    await expectProofRefused(
      tokens.refresh(issued.refresh_token, {
        dpop: await atTokenEndpoint(undefined, { htm: "GET" }),
      }),
    );
    expect(store.calls).toEqual([]);
  });

  it("a forged refresh token is refused before its proof is even looked at", async () => {
    const { tokens, atTokenEndpoint } = await boundSession();
    const dpop = await atTokenEndpoint();
    await expect(tokens.refresh(`tokens_rt_${"A".repeat(91)}`, { dpop })).rejects.toMatchObject({
      code: "invalid_grant",
    });
    // The proof was not spent on the forgery.
    await expect(tokens.issue({ subject: "alice", dpop })).resolves.toBeTruthy();
  });
});

describe("refresh of an unbound session with a proof", () => {
  it("binds the new access token to the proof's key; the session stays unbound", async () => {
    const setup = await dpopSetup();
    const issued = await setup.tokens.issue({ subject: "bob" });
    expect(issued.token_type).toBe("Bearer");
    expect(jwtClaims(issued.access_token).cnf).toBeUndefined();
    const next = await setup.tokens.refresh(issued.refresh_token, {
      dpop: await setup.atTokenEndpoint(),
    });
    expect(next.token_type).toBe("DPoP");
    expect(jwtClaims(next.access_token).cnf).toEqual({ jkt: setup.key.jkt });
    expect((await setup.store.getSession(issued.session.id))?.dpopJkt).toBeNull();
    const plain = await setup.tokens.refresh(next.refresh_token);
    expect(plain.token_type).toBe("Bearer");
  });

  it("stays Bearer when the session's client has DPoP off", async () => {
    const setup = await dpopSetup({ dpop: { clients: { legacy: "off" } } });
    const issued = await setup.tokens.issue({ subject: "bob", clientId: "legacy" });
    const next = await setup.tokens.refresh(issued.refresh_token, {
      dpop: await setup.atTokenEndpoint(),
    });
    expect(next.token_type).toBe("Bearer");
    expect(jwtClaims(next.access_token).cnf).toBeUndefined();
  });
});

describe("DPoP turned off everywhere", () => {
  it("ignores proofs, even broken ones, on issue and refresh", async () => {
    const setup = await dpopSetup({ dpop: { policy: "off" } });
    const broken = { proof: "garbage", method: "POST", url: "https://auth.example.test/t" };
    const issued = await setup.tokens.issue({ subject: "carol", dpop: broken });
    expect(issued.token_type).toBe("Bearer");
    const next = await setup.tokens.refresh(issued.refresh_token, { dpop: broken });
    expect(next.token_type).toBe("Bearer");
  });

  it("still holds a session bound under an earlier configuration to its key", async () => {
    const before = await dpopSetup();
    const issued = await before.tokens.issue({
      subject: "carol",
      dpop: await before.atTokenEndpoint(),
    });
    const after = await dpopSetup(
      { dpop: { policy: "off" } },
      { keys: before.keys, store: before.store, clock: before.clock },
    );
    await expectProofRefused(after.tokens.refresh(issued.refresh_token), "dpop_required");
    await expectProofRefused(
      after.tokens.refresh(issued.refresh_token, {
        dpop: await before.atTokenEndpoint(await dpopKey()),
      }),
      "dpop_key_mismatch",
    );
    const next = await after.tokens.refresh(issued.refresh_token, {
      dpop: await before.atTokenEndpoint(),
    });
    expect(next.token_type).toBe("DPoP");
  });
});
