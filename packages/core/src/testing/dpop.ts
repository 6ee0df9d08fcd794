import { base64url } from "jose";
import { describe, expect, it } from "vitest";
import type { DpopRequest } from "../types.js";
import { type DpopTestKey, dpopKey, dpopProof } from "./dpop-proof.js";
import { type Clock, type Env, harness, MINUTE, newSubject, rejection } from "./harness.js";

const TOKEN_URL = "https://issuer.conformance.test/auth/token";

/** The `dpop` option of a refresh or issue request, with a fresh proof made with `key`. */
async function proven(key: DpopTestKey, clock: Clock): Promise<DpopRequest> {
  const iat = Math.floor(clock.now() / 1000);
  return {
    proof: await dpopProof(key, { htm: "POST", htu: TOKEN_URL, iat }),
    method: "POST",
    url: TOKEN_URL,
  };
}

function cnfOf(accessToken: string): unknown {
  const payload = accessToken.split(".")[1] as string;
  return JSON.parse(new TextDecoder().decode(base64url.decode(payload))).cnf;
}

async function expectProofError(promise: Promise<unknown>, reason: string): Promise<void> {
  expect(await rejection(promise)).toMatchObject({
    name: "InvalidDpopProofError",
    code: "invalid_dpop_proof",
    reason,
  });
}

/** DPoP through `createTokens`: the store keeps a session's key binding through rotations. */
export function describeDpop(env: () => Env): void {
  describe("DPoP binding", () => {
    it("a session issued with a DPoP proof stays bound through the store: every refresh needs its key", async () => {
      const { store, stores } = env();
      const { tokens, clock, events } = harness(env());
      const key = await dpopKey();
      const issued = await tokens.issue({ subject: newSubject(), dpop: await proven(key, clock) });
      expect(issued.token_type).toBe("DPoP");
      expect(cnfOf(issued.access_token)).toEqual({ jkt: key.jkt });
      expect((await store.getSession(issued.session.id))?.dpopJkt).toBe(key.jkt);

      clock.advance(MINUTE);
      await expectProofError(tokens.refresh(issued.refresh_token), "dpop_required");
      await expectProofError(
        tokens.refresh(issued.refresh_token, { dpop: await proven(await dpopKey(), clock) }),
        "dpop_key_mismatch",
      );
      // Refused for the key, the token is still live: nothing was revoked or counted as reuse.
      expect(events.map((e) => e.type)).not.toContain("session_revoked");
      const second = await tokens.refresh(issued.refresh_token, { dpop: await proven(key, clock) });
      expect(second.token_type).toBe("DPoP");
      expect(cnfOf(second.access_token)).toEqual({ jkt: key.jkt });

      // Every connection of the store sees the binding, and it survives the rotation.
      const peer = harness(env(), {}, { store: stores.at(-1), clock }).tokens;
      clock.advance(MINUTE);
      await expectProofError(peer.refresh(second.refresh_token), "dpop_required");
      const third = await peer.refresh(second.refresh_token, { dpop: await proven(key, clock) });
      const stored = await store.getSession(issued.session.id);
      expect(stored?.generation).toBe(2);
      expect(stored?.dpopJkt).toBe(key.jkt);
      expect(third.session.id).toBe(issued.session.id);
    });

    it("an unbound session refreshed with a proof gets a bound access token and stays unbound", async () => {
      const { store } = env();
      const { tokens, clock } = harness(env());
      const key = await dpopKey();
      const issued = await tokens.issue({ subject: newSubject() });
      expect(issued.token_type).toBe("Bearer");
      clock.advance(MINUTE);
      const next = await tokens.refresh(issued.refresh_token, { dpop: await proven(key, clock) });
      expect(next.token_type).toBe("DPoP");
      expect(cnfOf(next.access_token)).toEqual({ jkt: key.jkt });
      expect((await store.getSession(issued.session.id))?.dpopJkt).toBeNull();
      clock.advance(MINUTE);
      expect((await tokens.refresh(next.refresh_token)).token_type).toBe("Bearer");
    });
  });
}
