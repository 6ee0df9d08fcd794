import { describe, expect, it } from "vitest";
import type { SessionRecord } from "../store.js";
import {
  DAY,
  type Env,
  expectDate,
  expectSameSession,
  expectSameToken,
  HOUR,
  newSubject,
  randomHash,
  randomText,
  rejection,
  rotationOf,
  SECOND,
  sessionRecord,
} from "./harness.js";

/** The store methods called directly: the contract core relies on, field by field. */
export function describeStoreContract(env: () => Env): void {
  describe("store contract", () => {
    it("createSession stores the session and its first token; getSession and findToken return them (dates as Date, within 1 ms)", async () => {
      const { store } = env();
      // Odd milliseconds catch stores that round to seconds.
      const at = Date.now() - (Date.now() % 1000) + 123;
      const { session, token } = sessionRecord({
        at,
        clientId: "mobile-app",
        client: { deviceId: "device-ä1", userAgent: "Mozilla/5.0 (X11) ✓", ip: "2001:db8::7" },
        bindingKey: randomHash(),
        claims: {
          role: "admin",
          tier: 3,
          beta: true,
          org: { id: "o-1", teams: ["a", "b"] },
          note: "ünïcode 🚀",
        },
        idleExpiresAt: new Date(at + HOUR + 7),
        expiresAt: new Date(at + DAY + 9),
      });
      await store.createSession(session, token);

      expectSameSession(await store.getSession(session.id), session);
      const found = await store.findToken(token.hash);
      expectSameToken(found?.token, token);
      expectSameSession(found?.session, session);
    });

    it("null fields (client, claims, rotation fields) come back as null", async () => {
      const { store } = env();
      const { session, token } = sessionRecord();
      await store.createSession(session, token);
      const stored = await store.getSession(session.id);
      expectSameSession(stored, session);
      expect(stored?.client).toBeNull();
      expect(stored?.claims).toBeNull();
      expect(stored?.rotatedAt).toBeNull();
      expect(stored?.revokedAt).toBeNull();
    });

    it("findToken resolves null for an unknown hash and getSession null for an unknown id", async () => {
      const { store } = env();
      expect(await store.findToken(randomHash())).toBeNull();
      expect(await store.getSession(randomText())).toBeNull();
    });

    it("records passed in and handed out are copies: mutating them does not change the store", async () => {
      const { store } = env();
      const { session, token } = sessionRecord({
        claims: { role: "user" },
        client: { deviceId: "d1" },
      });
      const original = structuredClone(session);
      await store.createSession(session, token);
      session.subject = "someone-else";
      session.expiresAt.setTime(0);
      (session.claims as Record<string, unknown>).role = "admin";
      token.createdAt.setTime(0);

      const read = await store.getSession(session.id);
      expectSameSession(read, original);
      if (read) {
        read.revokedAt = new Date();
        read.idleExpiresAt.setTime(0);
        (read.client as { deviceId?: string }).deviceId = "d2";
      }
      expectSameSession(await store.getSession(session.id), original);
      expectDate(
        (await store.findToken(token.hash))?.token.createdAt,
        original.createdAt,
        "token createdAt",
      );
    });

    it("createSession is all-or-nothing: a session whose token hash already exists is not stored", async () => {
      const { store } = env();
      const first = sessionRecord();
      await store.createSession(first.session, first.token);
      const clash = sessionRecord({ currentHash: first.token.hash });
      await rejection(store.createSession(clash.session, clash.token));
      // Nothing of the refused session may remain.
      expect(await store.getSession(clash.session.id)).toBeNull();
      expect((await store.findToken(first.token.hash))?.session.id).toBe(first.session.id);
    });

    it("rotate with the live hash installs the successor and updates the session; spent token rows stay", async () => {
      const { store } = env();
      const at = Date.now();
      const { session, token } = sessionRecord({ at, claims: { a: 1 } });
      await store.createSession(session, token);
      const rotation = rotationOf(session, at + 61 * SECOND + 7);
      expect(await store.rotate(rotation)).toBe(true);

      const expected: SessionRecord = {
        ...session,
        generation: 1,
        previousHash: token.hash,
        currentHash: rotation.successor.hash,
        sealedSuccessor: rotation.sealedSuccessor,
        rotatedAt: rotation.rotatedAt,
        lastUsedAt: rotation.rotatedAt,
        idleExpiresAt: rotation.idleExpiresAt,
      };
      expectSameSession(await store.getSession(session.id), expected);
      const successor = await store.findToken(rotation.successor.hash);
      expectSameToken(successor?.token, rotation.successor);
      expectSameSession(successor?.session, expected);
      // The spent token still leads to its session: that is how reuse is detected.
      const spent = await store.findToken(token.hash);
      expectSameToken(spent?.token, token);
      expectSameSession(spent?.session, expected);

      const second = rotationOf(expected, at + 2 * HOUR);
      expect(await store.rotate(second)).toBe(true);
      const after = await store.getSession(session.id);
      expect(after?.generation).toBe(2);
      expect(after?.previousHash).toBe(rotation.successor.hash);
      expect(after?.currentHash).toBe(second.successor.hash);
    });

    it("rotate resolves false and changes nothing when expectedHash is not the live hash", async () => {
      const { store } = env();
      const { session, token } = sessionRecord();
      await store.createSession(session, token);
      expect(await store.rotate(rotationOf(session, Date.now(), randomHash()))).toBe(false);
      expectSameSession(await store.getSession(session.id), session);

      const won = rotationOf(session, Date.now());
      expect(await store.rotate(won)).toBe(true);
      const rotated = await store.getSession(session.id);
      // The spent hash no longer rotates anything.
      expect(await store.rotate(rotationOf(session, Date.now() + SECOND, token.hash))).toBe(false);
      expectSameSession(await store.getSession(session.id), rotated as SessionRecord);
    });

    it("rotate resolves false for a revoked session and for an unknown session", async () => {
      const { store } = env();
      const { session, token } = sessionRecord();
      await store.createSession(session, token);
      expect(await store.revokeSession(session.id, new Date(), "logout")).toBe(true);
      const revoked = await store.getSession(session.id);
      expect(await store.rotate(rotationOf(session, Date.now()))).toBe(false);
      expectSameSession(await store.getSession(session.id), revoked as SessionRecord);

      const ghost = sessionRecord().session;
      expect(await store.rotate(rotationOf(ghost, Date.now()))).toBe(false);
      expect(await store.getSession(ghost.id)).toBeNull();
    });

    it("revokeSession resolves true, then false; the first time and reason stay; unknown ids resolve false", async () => {
      const { store } = env();
      const { session, token } = sessionRecord();
      await store.createSession(session, token);
      const at = new Date(Date.now() + 5 * SECOND + 3);
      expect(await store.revokeSession(session.id, at, "logout")).toBe(true);
      expect(await store.revokeSession(session.id, new Date(at.getTime() + HOUR), "reused")).toBe(
        false,
      );
      expectSameSession(await store.getSession(session.id), {
        ...session,
        revokedAt: at,
        revokeReason: "logout",
      });
      expect(await store.revokeSession(randomText(), at, "logout")).toBe(false);
    });

    it("revokeSubject revokes and counts the subject's unrevoked sessions only; other subjects are untouched", async () => {
      const { store } = env();
      const subject = newSubject();
      const already = sessionRecord({ subject });
      const mine = [sessionRecord({ subject }), sessionRecord({ subject })];
      const other = sessionRecord();
      for (const { session, token } of [already, ...mine, other])
        await store.createSession(session, token);
      const earlier = new Date(Date.now() - HOUR);
      await store.revokeSession(already.session.id, earlier, "logout");

      const at = new Date();
      expect(await store.revokeSubject(subject, at, "subject_revoked")).toBe(2);
      const first = await store.getSession(already.session.id);
      expectDate(first?.revokedAt, earlier, "revokedAt of the already revoked session");
      expect(first?.revokeReason).toBe("logout");
      for (const { session } of mine) {
        const stored = await store.getSession(session.id);
        expectDate(stored?.revokedAt, at, "revokedAt");
        expect(stored?.revokeReason).toBe("subject_revoked");
      }
      expectSameSession(await store.getSession(other.session.id), other.session);
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
      for (const { session, token } of [
        newer,
        revoked,
        idleEnded,
        older,
        ended,
        rotated,
        otherSubject,
      ]) {
        await store.createSession(session, token);
      }
      expect(await store.rotate(rotationOf(rotated.session, now - 10))).toBe(true);
      expect(await store.revokeSession(revoked.session.id, new Date(now - 1), "logout")).toBe(true);

      const listed = await store.listSessions(subject, new Date(now));
      expect(listed.map((s) => s.id)).toEqual([
        older.session.id,
        newer.session.id,
        rotated.session.id,
      ]);
      expectSameSession(listed[0], older.session);
      expect(listed[2]?.generation).toBe(1);
      expect(await store.listSessions(newSubject(), new Date(now))).toEqual([]);
    });

    it("purge deletes up to `limit` sessions that ended before `before`, with all their tokens, and keeps the rest", async () => {
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
      const rotatedEnded = sessionRecord({ at: before - DAY });
      const lasting = { idleExpiresAt: new Date(before + HOUR), expiresAt: new Date(before + DAY) };
      const live = sessionRecord({ at: before - DAY, ...lasting });
      const revokedLater = sessionRecord({ at: before - DAY, ...lasting });
      // Ends exactly at `before`: not before it, so it stays.
      const boundary = sessionRecord({
        at: before - DAY,
        idleExpiresAt: new Date(before),
        expiresAt: new Date(before),
      });
      for (const { session, token } of [
        revoked,
        idleEnded,
        ended,
        rotatedEnded,
        live,
        revokedLater,
        boundary,
      ]) {
        await store.createSession(session, token);
      }
      const rotation = rotationOf(rotatedEnded.session, before - 2 * HOUR);
      expect(await store.rotate(rotation)).toBe(true);
      await store.revokeSession(rotatedEnded.session.id, new Date(before - HOUR), "reused");
      await store.revokeSession(revoked.session.id, new Date(before - 1), "logout");
      await store.revokeSession(revokedLater.session.id, new Date(before + 1), "logout");

      const cutoff = new Date(before);
      expect(await store.purge(cutoff, 2)).toBe(2);
      let rounds = 0;
      while ((await store.purge(cutoff, 2)) === 2) expect(++rounds).toBeLessThan(1000);

      for (const gone of [revoked, idleEnded, ended, rotatedEnded]) {
        expect(await store.getSession(gone.session.id)).toBeNull();
        expect(await store.findToken(gone.token.hash)).toBeNull();
      }
      expect(await store.findToken(rotation.successor.hash)).toBeNull();
      for (const kept of [live, revokedLater, boundary]) {
        expect(await store.getSession(kept.session.id)).not.toBeNull();
        expect((await store.findToken(kept.token.hash))?.session.id).toBe(kept.session.id);
      }
      expect(await store.purge(cutoff, 10)).toBe(0);
    });
  });
}
