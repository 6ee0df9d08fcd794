import { describe, expect, it } from "vitest";
import type { SessionRecord, TokenStore } from "../store.js";
import type { TokenResponse } from "../types.js";
import {
  type Env,
  expectStoreUnavailable,
  harness,
  harnesses,
  MINUTE,
  newSubject,
  randomText,
  recovering,
  rejection,
  rotationOf,
  sessionRecord,
  taggedRefreshToken,
} from "./harness.js";

/** Store failures: only run when the adapter can produce them (`faults`). */
export function describeFaults(env: () => Env): void {
  describe("faults", () => {
    it("an unreachable store rejects every method with StoreUnavailableError", async (context) => {
      const { unavailable } = env().faults;
      if (!unavailable) return context.skip("the adapter provides no faults.unavailable");
      const down = await unavailable();
      const session = sessionRecord();
      const now = new Date();
      const calls: Record<keyof TokenStore, () => Promise<unknown>> = {
        createSession: () => down.createSession(session),
        rotate: () => down.rotate(rotationOf(session, Date.now())),
        getSession: () => down.getSession(randomText()),
        listSessions: () => down.listSessions(newSubject(), now),
        revokeSession: () => down.revokeSession(randomText(), now, "logout"),
        revokeSubject: () => down.revokeSubject(newSubject(), now, "subject_revoked"),
        purge: () => down.purge(new Date(0), 10),
      };
      for (const [method, call] of Object.entries(calls)) {
        let promise: Promise<unknown>;
        try {
          promise = (call as () => Promise<unknown>)();
        } catch (error) {
          return expect.fail(
            `${method} threw synchronously instead of rejecting: ${String(error)}`,
          );
        }
        expectStoreUnavailable(await rejection(promise), method);
      }
    });

    it("tokens operations over an unreachable store reject with StoreUnavailableError, never another error", async (context) => {
      const { unavailable } = env().faults;
      if (!unavailable) return context.skip("the adapter provides no faults.unavailable");
      const healthy = harness(env());
      const pair = await healthy.tokens.issue({ subject: newSubject() });
      const { tokens } = harness(env(), {}, { store: await unavailable(), clock: healthy.clock });
      const calls: Record<string, () => Promise<unknown>> = {
        issue: () => tokens.issue({ subject: newSubject() }),
        "refresh (issued token)": () => tokens.refresh(pair.refresh_token),
        "refresh (unknown session)": () =>
          tokens.refresh(taggedRefreshToken(env().keys, randomText(), 0)),
        revoke: () => tokens.revoke(pair.refresh_token),
        revokeSession: () => tokens.revokeSession(pair.session.id),
        revokeSubject: () => tokens.revokeSubject(pair.session.subject),
        listSessions: () => tokens.listSessions(pair.session.subject),
        purge: () => tokens.purge(),
        "verifyAccessToken (checkSession)": () =>
          tokens.verifyAccessToken(pair.access_token, { checkSession: true }),
      };
      for (const [operation, call] of Object.entries(calls)) {
        expectStoreUnavailable(await rejection(call()), operation);
      }
      // Stateless verification needs no store.
      expect((await tokens.verifyAccessToken(pair.access_token)).sid).toBe(pair.session.id);
    });

    it("connections killed mid-refresh: each refresh resolves or fails with StoreUnavailableError; no session is revoked or half-rotated", async (context) => {
      const { interrupt } = env().faults;
      if (!interrupt) return context.skip("the adapter provides no faults.interrupt");
      const { store } = env();
      const instances = harnesses(env(), { reuseGrace: 60 });
      const [first] = instances;
      if (!first) throw new Error("no store");
      const subject = newSubject();
      const pairs: TokenResponse[] = [];
      for (let i = 0; i < 20; i++) pairs.push(await first.tokens.issue({ subject }));
      const issued = new Map<string, SessionRecord>();
      for (const pair of pairs)
        issued.set(pair.session.id, (await store.getSession(pair.session.id)) as SessionRecord);
      first.clock.advance(MINUTE);

      const pending = pairs.map((pair, i) =>
        (instances[i % instances.length] ?? first).tokens.refresh(pair.refresh_token),
      );
      // Settled before the interrupt is awaited: a refresh that fails meanwhile is handled.
      const settled = Promise.allSettled(pending);
      await interrupt();
      const outcomes = await settled;

      for (const [i, outcome] of outcomes.entries()) {
        const pair = pairs[i] as TokenResponse;
        const before = issued.get(pair.session.id) as SessionRecord;
        if (outcome.status === "rejected") expectStoreUnavailable(outcome.reason, `refresh #${i}`);
        const after = (await recovering(() => store.getSession(pair.session.id))) as SessionRecord;
        expect(after.revokedAt, `session #${i} must not be revoked`).toBeNull();
        if (after.generation === 0) {
          // Unchanged: the refresh cannot have reported success.
          expect(outcome.status, `session #${i} unchanged but its refresh resolved`).toBe(
            "rejected",
          );
          expect(after.currentHash).toBe(before.currentHash);
        } else {
          // Rotated exactly once, and completely: the row names the spent token and seals
          // its successor.
          expect(after.generation, `session #${i} generation`).toBe(1);
          expect(after.previousHash).toBe(before.currentHash);
          expect(after.currentHash).not.toBe(before.currentHash);
          expect(after.sealedSuccessor).not.toBeNull();
          expect(after.rotatedAt).toBeInstanceOf(Date);
        }
        // Retrying the same token is safe: it rotates now, or replays the successor it got.
        const retry = await recovering(() => first.tokens.refresh(pair.refresh_token));
        if (outcome.status === "fulfilled")
          expect(retry.refresh_token).toBe(outcome.value.refresh_token);
        expect((await recovering(() => store.getSession(pair.session.id)))?.generation).toBe(1);
        await recovering(() => first.tokens.refresh(retry.refresh_token));
      }
      expect(first.events.filter((e) => e.type === "reuse_detected")).toEqual([]);
    });
  });
}
