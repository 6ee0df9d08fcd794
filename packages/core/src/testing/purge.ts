import { describe, expect, it } from "vitest";
import {
  clockAt,
  type Env,
  expectGrantError,
  HOUR,
  harness,
  MINUTE,
  newSubject,
  PAST,
  SECOND,
} from "./harness.js";

/** Purging ended sessions, through `createTokens`. */
export function describePurge(env: () => Env): void {
  describe("purge", () => {
    // These tests run in the past (see PAST), so their purges reach only sessions they created.

    it("purge removes sessions ended longer than the retention ago, and keeps live ones with their spent tokens", async () => {
      const { store } = env();
      const clock = clockAt(PAST);
      const { tokens } = harness(env(), { refreshIdleTtl: 3600, purgeRetention: 60 }, { clock });
      const subject = newSubject();
      const t0 = clock.now();
      const revoked = await tokens.issue({ subject });
      const idle = await tokens.issue({ subject });
      const live = await tokens.issue({ subject });
      await tokens.revokeSession(revoked.session.id);

      clock.advance(50 * MINUTE);
      const liveNext = await tokens.refresh(live.refresh_token);
      clock.advance(11 * MINUTE);
      const recent = await tokens.issue({ subject });
      await tokens.revokeSession(recent.session.id);
      clock.advance(SECOND);
      // Now: revoked ended at t0, idle at t0 + 1 h, both more than 60 s ago; recent ended 1 s ago.
      expect(clock.now()).toBe(t0 + HOUR + 61 * SECOND);

      expect(await tokens.purge()).toBeGreaterThanOrEqual(2);
      for (const gone of [revoked, idle]) {
        expect(await store.getSession(gone.session.id)).toBeNull();
        await expectGrantError(tokens.refresh(gone.refresh_token), "not_found");
      }
      expect(await store.getSession(recent.session.id)).not.toBeNull();
      expect((await tokens.listSessions(subject)).map((s) => s.id)).toEqual([live.session.id]);
      // The live session's spent token is still known, so presenting it is still reuse.
      await expectGrantError(tokens.refresh(live.refresh_token), "reused");
      await expectGrantError(tokens.refresh(liveNext.refresh_token), "revoked");
    });

    it("purge with a batch size smaller than the number of ended sessions still removes them all", async () => {
      const { store } = env();
      const clock = clockAt(PAST + HOUR);
      const { tokens } = harness(env(), { purgeRetention: 60 }, { clock });
      const subject = newSubject();
      const ended = [];
      for (let i = 0; i < 7; i++) ended.push(await tokens.issue({ subject }));
      expect(await tokens.revokeSubject(subject)).toBe(7);
      clock.advance(61 * SECOND);

      expect(await tokens.purge({ batchSize: 3 })).toBeGreaterThanOrEqual(7);
      for (const pair of ended) expect(await store.getSession(pair.session.id)).toBeNull();
    });
  });
}
