import { describe, expect, it } from "vitest";
import {
  DAY,
  type Env,
  expectDate,
  expectSameSession,
  HOUR,
  MINUTE,
  newSubject,
  randomHash,
  randomText,
  rejection,
  rotatedBy,
  rotationOf,
  SECOND,
  sessionRecord,
} from "./harness.js";
import { describeRotate } from "./store-rotate.js";

/** The store methods called directly: the contract core relies on, field by field. */
export function describeStoreContract(env: () => Env, nonAtomic?: string): void {
  describe("store contract", () => {
    it("createSession stores the session; getSession returns it (dates as Date, within 1 ms)", async () => {
      const { store } = env();
      // Odd milliseconds catch stores that round to seconds.
      const at = Date.now() - (Date.now() % 1000) + 123;
      const session = sessionRecord({
        at,
        clientId: "mobile-app",
        client: { deviceId: "device-ä1", userAgent: "Mozilla/5.0 (X11) ✓", ip: "2001:db8::7" },
        bindingKey: randomHash(),
        dpopJkt: randomHash(),
        claims: {
          role: "admin",
          tier: 3,
          beta: true,
          org: { id: "o-1", teams: ["a", "b"] },
          note: "ünïcode 🚀",
        },
        idleExpiresAt: new Date(at + HOUR + 7),
        expiresAt: new Date(at + DAY + 9),
        purgeAfter: new Date(at + HOUR - 5),
      });
      await store.createSession(session);
      expectSameSession(await store.getSession(session.id), session);
    });

    it("null fields (client, claims, rotation fields) come back as null", async () => {
      const { store } = env();
      const session = sessionRecord();
      await store.createSession(session);
      const stored = await store.getSession(session.id);
      expectSameSession(stored, session);
      expect(stored?.client).toBeNull();
      expect(stored?.claims).toBeNull();
      expect(stored?.rotatedAt).toBeNull();
      expect(stored?.revokedAt).toBeNull();
    });

    it("getSession resolves null for an unknown id", async () => {
      const { store } = env();
      expect(await store.getSession(randomText())).toBeNull();
    });

    it("records passed in and handed out are copies: mutating them does not change the store", async () => {
      const { store } = env();
      const session = sessionRecord({
        claims: { role: "user" },
        client: { deviceId: "d1" },
      });
      const original = structuredClone(session);
      await store.createSession(session);
      session.subject = "someone-else";
      session.expiresAt.setTime(0);
      session.purgeAfter.setTime(0);
      (session.claims as Record<string, unknown>).role = "admin";

      const read = await store.getSession(session.id);
      expectSameSession(read, original);
      if (read) {
        read.revokedAt = new Date();
        read.idleExpiresAt.setTime(0);
        (read.client as { deviceId?: string }).deviceId = "d2";
      }
      expectSameSession(await store.getSession(session.id), original);

      const at = Date.now();
      const rotation = rotationOf(original, at);
      const expected = rotatedBy(original, structuredClone(rotation));
      const rotated = await store.rotate(rotation);
      rotated?.lastUsedAt.setTime(0);
      rotation.rotatedAt.setTime(0);
      rotation.idleExpiresAt.setTime(0);
      expectSameSession(await store.getSession(session.id), expected);
    });

    it("createSession rejects a session whose id exists and leaves the stored one as it was", async () => {
      const { store } = env();
      const first = sessionRecord();
      await store.createSession(first);
      const clash = sessionRecord({ id: first.id });
      await rejection(store.createSession(clash));
      expectSameSession(await store.getSession(first.id), first);
    });

    it("revokeSession resolves true, then false; the first time and reason stay; unknown ids resolve false", async () => {
      const { store } = env();
      const session = sessionRecord();
      await store.createSession(session);
      const at = new Date(Date.now() + 5 * SECOND + 3);
      expect(await store.revokeSession(session.id, at, "logout")).toBe(true);
      expect(await store.revokeSession(session.id, new Date(at.getTime() + HOUR), "reused")).toBe(
        false,
      );
      // Revoking moves purgeAfter to the revocation when that is earlier, never later.
      expectSameSession(await store.getSession(session.id), {
        ...session,
        revokedAt: at,
        revokeReason: "logout",
        purgeAfter: at,
      });
      expect(await store.revokeSession(randomText(), at, "logout")).toBe(false);
      const later = sessionRecord({ purgeAfter: new Date(Date.now() - MINUTE) });
      await store.createSession(later);
      expect(await store.revokeSession(later.id, at, "logout")).toBe(true);
      expectDate((await store.getSession(later.id))?.purgeAfter, later.purgeAfter, "purgeAfter");
    });

    it("revokeSubject revokes and counts the subject's unrevoked sessions only; other subjects are untouched", async () => {
      const { store } = env();
      const subject = newSubject();
      const already = sessionRecord({ subject });
      const mine = [sessionRecord({ subject }), sessionRecord({ subject })];
      const other = sessionRecord();
      for (const session of [already, ...mine, other]) await store.createSession(session);
      const earlier = new Date(Date.now() - HOUR);
      await store.revokeSession(already.id, earlier, "logout");

      const at = new Date();
      expect(await store.revokeSubject(subject, at, "subject_revoked")).toBe(2);
      const first = await store.getSession(already.id);
      expectDate(first?.revokedAt, earlier, "revokedAt of the already revoked session");
      expect(first?.revokeReason).toBe("logout");
      for (const session of mine) {
        const stored = await store.getSession(session.id);
        expectDate(stored?.revokedAt, at, "revokedAt");
        expectDate(stored?.purgeAfter, at, "purgeAfter");
        expect(stored?.revokeReason).toBe("subject_revoked");
      }
      expectSameSession(await store.getSession(other.id), other);
      expect(await store.revokeSubject(subject, at, "subject_revoked")).toBe(0);
      expect(await store.revokeSubject(newSubject(), at, "subject_revoked")).toBe(0);
    });

    it("listSessions returns the subject's live sessions only, oldest createdAt first", async () => {
      const { store } = env();
      const subject = newSubject();
      const now = Date.now();
      const newer = sessionRecord({ subject, at: now - 2 * SECOND });
      const older = sessionRecord({ subject, at: now - 3 * SECOND });
      const rotated = sessionRecord({ subject, at: now - SECOND });
      const revoked = sessionRecord({ subject, at: now - 4 * SECOND });
      const idleEnded = sessionRecord({ subject, at: now - HOUR, idleExpiresAt: new Date(now) });
      const ended = sessionRecord({
        subject,
        at: now - DAY,
        idleExpiresAt: new Date(now - 1),
        expiresAt: new Date(now - 1),
      });
      const otherSubject = sessionRecord({ at: now - 5 * SECOND });
      // Inserted out of order so that the order returned must come from createdAt.
      for (const session of [newer, revoked, idleEnded, older, ended, rotated, otherSubject]) {
        await store.createSession(session);
      }
      expect(await store.rotate(rotationOf(rotated, now - 10))).not.toBeNull();
      expect(await store.revokeSession(revoked.id, new Date(now - 1), "logout")).toBe(true);

      const listed = await store.listSessions(subject, new Date(now));
      expect(listed.map((s) => s.id)).toEqual([older.id, newer.id, rotated.id]);
      expectSameSession(listed[0], older);
      expect(listed[2]?.generation).toBe(1);
      expect(await store.listSessions(newSubject(), new Date(now))).toEqual([]);
    });

    it("purge deletes up to `limit` sessions that ended before `before` and keeps the rest", async () => {
      const { store } = env();
      // Dates far in the past: this purge cannot touch sessions that other tests use.
      const before = Date.now() - 700 * DAY;
      const revoked = sessionRecord({ at: before - DAY });
      const idleEnded = sessionRecord({ at: before - DAY, idleExpiresAt: new Date(before - 1) });
      const ended = sessionRecord({
        at: before - 3 * DAY,
        idleExpiresAt: new Date(before - 2 * DAY),
        expiresAt: new Date(before - 1),
      });
      const rotatedEnded = sessionRecord({
        at: before - DAY,
        idleExpiresAt: new Date(before - HOUR),
      });
      const lasting = { idleExpiresAt: new Date(before + HOUR), expiresAt: new Date(before + DAY) };
      const live = sessionRecord({ at: before - DAY, ...lasting });
      // purgeAfter is a coarse lower bound: a session it names as a candidate that has not
      // ended yet stays.
      const coarse = sessionRecord({
        at: before - DAY,
        ...lasting,
        purgeAfter: new Date(before - DAY),
      });
      const revokedLater = sessionRecord({ at: before - DAY, ...lasting });
      // Ends exactly at `before`: not before it, so it stays.
      const boundary = sessionRecord({
        at: before - DAY,
        idleExpiresAt: new Date(before),
        expiresAt: new Date(before),
      });
      for (const session of [
        revoked,
        idleEnded,
        ended,
        rotatedEnded,
        live,
        coarse,
        revokedLater,
        boundary,
      ]) {
        await store.createSession(session);
      }
      const rotation = rotationOf(rotatedEnded, before - 2 * HOUR);
      expect(await store.rotate(rotation)).not.toBeNull();
      await store.revokeSession(rotatedEnded.id, new Date(before - HOUR), "reused");
      await store.revokeSession(revoked.id, new Date(before - 1), "logout");
      await store.revokeSession(revokedLater.id, new Date(before + 1), "logout");

      const cutoff = new Date(before);
      expect(await store.purge(cutoff, 2)).toBe(2);
      let rounds = 0;
      while ((await store.purge(cutoff, 2)) === 2) expect(++rounds).toBeLessThan(1000);

      for (const gone of [revoked, idleEnded, ended, rotatedEnded]) {
        expect(await store.getSession(gone.id)).toBeNull();
      }
      for (const kept of [live, coarse, revokedLater, boundary]) {
        expect(await store.getSession(kept.id)).not.toBeNull();
      }
      expect(await store.purge(cutoff, 10)).toBe(0);
    });
  });
  describeRotate(env, nonAtomic);
}
