import { describe, expect, it } from "vitest";
import type { SessionRecord, TokenStore } from "../store.js";
import type { TokenResponse } from "../types.js";
import {
  type Env,
  expectGrantError,
  harness,
  harnesses,
  MINUTE,
  raceTest,
  sessionRecord,
} from "./harness.js";
import { raceRotations } from "./race.js";

/**
 * Simultaneous refreshes of one token, spread over the store and its peers (independent
 * connections): what several tabs, retries or server instances do to a real deployment.
 */
export function describeConcurrency(env: () => Env, nonAtomic?: string): void {
  const race = raceTest(nonAtomic);
  describe("concurrency", () => {
    race(
      "N concurrent store.rotate() calls with the same expectedHash: exactly one resolves a session",
      async () => {
        const { stores, concurrency, store } = env();
        const session = sessionRecord();
        await store.createSession(session);
        const { winners } = await raceRotations(stores, session, concurrency, Date.now());
        expect(winners, "rotations that resolved a session").toHaveLength(1);
        const stored = (await store.getSession(session.id)) as SessionRecord;
        expect(stored.generation).toBe(1);
        expect(stored.previousHash).toBe(session.currentHash);
        expect(stored.currentHash).toBe(winners[0]?.successorHash);
        expect(stored.sealedSuccessor).toBe(winners[0]?.sealedSuccessor);
      },
    );

    race("N concurrent revokeSession calls: exactly one resolves true", async () => {
      const { stores, concurrency, store } = env();
      const session = sessionRecord();
      await store.createSession(session);
      const results = await Promise.all(
        Array.from({ length: concurrency }, (_, i) =>
          (stores[i % stores.length] as TokenStore).revokeSession(
            session.id,
            new Date(),
            `reason-${i}`,
          ),
        ),
      );
      expect(results.filter(Boolean), "revocations that resolved true").toHaveLength(1);
      const winner = results.indexOf(true);
      expect((await store.getSession(session.id))?.revokeReason).toBe(`reason-${winner}`);
    });

    race(
      "N concurrent refreshes of one token (grace > 0) all succeed with the same refresh token; one rotation",
      async () => {
        const { store, concurrency } = env();
        const instances = harnesses(env(), { reuseGrace: 10 });
        const [first] = instances;
        if (!first) throw new Error("no store");
        const pair = await first.tokens.issue({ subject: `race-${crypto.randomUUID()}` });
        first.clock.advance(MINUTE);

        const responses = await Promise.all(
          Array.from({ length: concurrency }, (_, i) =>
            instances[i % instances.length]?.tokens.refresh(pair.refresh_token),
          ),
        );
        const refreshTokens = new Set(responses.map((r) => (r as TokenResponse).refresh_token));
        expect(refreshTokens.size, "distinct refresh tokens returned").toBe(1);
        const [successor] = refreshTokens;
        expect(successor).not.toBe(pair.refresh_token);

        const stored = (await store.getSession(pair.session.id)) as SessionRecord;
        expect(stored.generation, "generation after the burst").toBe(1);
        expect(stored.revokedAt).toBeNull();
        expect(first.events.filter((e) => e.type === "token_rotated")).toHaveLength(1);
        expect(first.events.filter((e) => e.type === "reuse_detected")).toEqual([]);

        // Exactly one live lineage: the returned token refreshes further.
        const next = await first.tokens.refresh(successor as string);
        expect(next.session.id).toBe(pair.session.id);
        expect((await store.getSession(pair.session.id))?.generation).toBe(2);
      },
    );

    race(
      "N concurrent refreshes of one token with reuseGrace 0: exactly one succeeds, the rest are reuse, the session ends revoked",
      async () => {
        const { store, concurrency } = env();
        const instances = harnesses(env(), { reuseGrace: 0 });
        const [first] = instances;
        if (!first) throw new Error("no store");
        const pair = await first.tokens.issue({ subject: `race-${crypto.randomUUID()}` });

        const outcomes = await Promise.allSettled(
          Array.from({ length: concurrency }, (_, i) =>
            (instances[i % instances.length] ?? first).tokens.refresh(pair.refresh_token),
          ),
        );
        const succeeded = outcomes.filter((o) => o.status === "fulfilled");
        expect(succeeded, "refreshes that succeeded").toHaveLength(1);
        for (const outcome of outcomes) {
          if (outcome.status === "fulfilled") continue;
          expect(outcome.reason).toMatchObject({ code: "invalid_grant" });
          expect(["reused", "revoked"]).toContain(outcome.reason.reason);
        }
        const stored = (await store.getSession(pair.session.id)) as SessionRecord;
        expect(stored.revokedAt).toBeInstanceOf(Date);
        expect(stored.generation).toBe(1);
        const [winner] = succeeded as PromiseFulfilledResult<TokenResponse>[];
        await expectGrantError(first.tokens.refresh(winner?.value.refresh_token), "revoked");
      },
    );

    it("concurrent refreshes of different sessions do not interfere", async () => {
      const { concurrency } = env();
      const { tokens } = harness(env());
      const subject = `race-${crypto.randomUUID()}`;
      const pairs = await Promise.all(
        Array.from({ length: Math.min(concurrency, 20) }, () => tokens.issue({ subject })),
      );
      const next = await Promise.all(pairs.map((p) => tokens.refresh(p.refresh_token)));
      expect(new Set(next.map((p) => p.session.id)).size).toBe(pairs.length);
      expect((await tokens.listSessions(subject)).length).toBe(pairs.length);
    });
  });
}
