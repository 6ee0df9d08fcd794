import { describe, expect, it } from "vitest";
import {
  type Env,
  expectDate,
  expectGrantError,
  HOUR,
  harness,
  MINUTE,
  newSubject,
  randomText,
  rejection,
  SECOND,
  unknownRefreshToken,
} from "./harness.js";

/** Revocation, the sessions list and the session cap, through `createTokens`. */
export function describeRevocation(env: () => Env): void {
  describe("revocation", () => {
    it("revoke(refreshToken) revokes its session (RFC 7009): no refresh, checkSession rejects its access tokens", async () => {
      const { tokens, clock, events } = harness(env());
      const subject = newSubject();
      const first = await tokens.issue({ subject });
      const other = await tokens.issue({ subject });
      clock.advance(MINUTE);
      const pair = await tokens.refresh(first.refresh_token);

      await expect(tokens.revoke(pair.refresh_token)).resolves.toBeUndefined();
      await expectGrantError(tokens.refresh(pair.refresh_token), "revoked");
      await expectGrantError(tokens.refresh(first.refresh_token), "revoked");
      expect(events).toContainEqual(
        expect.objectContaining({ type: "session_revoked", sessionId: first.session.id }),
      );
      const denied = await rejection(
        tokens.verifyAccessToken(pair.access_token, { checkSession: true }),
      );
      expect(denied).toMatchObject({ code: "invalid_token", reason: "revoked" });
      // Without checkSession verification is stateless: the token stays valid until it expires.
      expect((await tokens.verifyAccessToken(pair.access_token)).sid).toBe(first.session.id);

      expect((await tokens.listSessions(subject)).map((s) => s.id)).toEqual([other.session.id]);
      await tokens.verifyAccessToken(other.access_token, { checkSession: true });
      await tokens.refresh(other.refresh_token);
    });

    it("revoke ignores unknown, malformed and non-string tokens without error", async () => {
      const { tokens } = harness(env());
      const pair = await tokens.issue({ subject: newSubject() });
      for (const token of [
        unknownRefreshToken(),
        "garbage",
        "",
        42,
        null,
        undefined,
        {},
        "x".repeat(100_000),
      ]) {
        await expect(tokens.revoke(token)).resolves.toBeUndefined();
      }
      await tokens.refresh(pair.refresh_token);
    });

    it("revokeSession revokes one session: true, then false; unknown ids resolve false", async () => {
      const { store } = env();
      const { tokens, clock, events } = harness(env());
      const subject = newSubject();
      const pair = await tokens.issue({ subject });
      const sibling = await tokens.issue({ subject });
      clock.advance(SECOND);

      expect(await tokens.revokeSession(pair.session.id)).toBe(true);
      expect(events).toContainEqual(
        expect.objectContaining({ type: "session_revoked", sessionId: pair.session.id, subject }),
      );
      expectDate((await store.getSession(pair.session.id))?.revokedAt, clock.now(), "revokedAt");
      expect(await tokens.revokeSession(pair.session.id)).toBe(false);
      expect(await tokens.revokeSession(randomText())).toBe(false);
      await expectGrantError(tokens.refresh(pair.refresh_token), "revoked");
      const denied = await rejection(
        tokens.verifyAccessToken(pair.access_token, { checkSession: true }),
      );
      expect(denied).toMatchObject({ code: "invalid_token", reason: "revoked" });
      await tokens.refresh(sibling.refresh_token);
    });

    it("revokeSubject revokes every session of the subject, rotated ones included, and no other subject's", async () => {
      const { tokens, clock, events } = harness(env());
      const subject = newSubject();
      const bystander = newSubject();
      const first = await tokens.issue({ subject });
      const second = await tokens.issue({ subject });
      const third = await tokens.issue({ subject, clientId: "mobile" });
      const theirs = await tokens.issue({ subject: bystander });
      clock.advance(MINUTE);
      const rotated = await tokens.refresh(first.refresh_token);

      expect(await tokens.revokeSubject(subject)).toBe(3);
      expect(events).toContainEqual(
        expect.objectContaining({ type: "subject_revoked", subject, count: 3 }),
      );
      for (const token of [
        rotated.refresh_token,
        second.refresh_token,
        third.refresh_token,
        first.refresh_token,
      ]) {
        await expectGrantError(tokens.refresh(token), "revoked");
      }
      for (const { access_token } of [rotated, second, third]) {
        const denied = await rejection(
          tokens.verifyAccessToken(access_token, { checkSession: true }),
        );
        expect(denied).toMatchObject({ code: "invalid_token", reason: "revoked" });
      }
      expect(await tokens.listSessions(subject)).toEqual([]);
      expect(await tokens.revokeSubject(subject)).toBe(0);

      await tokens.verifyAccessToken(theirs.access_token, { checkSession: true });
      expect((await tokens.listSessions(bystander)).map((s) => s.id)).toEqual([theirs.session.id]);
      await tokens.refresh(theirs.refresh_token);
    });
  });

  describe("sessions list", () => {
    it("listSessions returns the subject's live sessions, oldest first, with their metadata", async () => {
      const { tokens, clock } = harness(env(), { refreshIdleTtl: 3600 });
      const subject = newSubject();
      const t0 = clock.now();
      const laptop = { deviceId: "laptop", userAgent: "Agent/1.0", ip: "198.51.100.4" };
      const first = await tokens.issue({ subject, client: laptop });
      clock.advance(SECOND);
      const second = await tokens.issue({ subject, clientId: "mobile" });
      clock.advance(SECOND);
      const third = await tokens.issue({ subject });
      clock.advance(SECOND);
      const revoked = await tokens.issue({ subject });
      await tokens.revokeSession(revoked.session.id);
      await tokens.issue({ subject: newSubject() });

      clock.advance(10 * MINUTE);
      await tokens.refresh(second.refresh_token);
      const listed = await tokens.listSessions(subject);
      expect(listed.map((s) => s.id)).toEqual([
        first.session.id,
        second.session.id,
        third.session.id,
      ]);
      const [a, b] = listed;
      expect(a).toMatchObject({
        id: first.session.id,
        subject,
        clientId: "default",
        client: laptop,
      });
      expectDate(a?.createdAt, t0, "createdAt");
      expectDate(a?.lastUsedAt, t0, "lastUsedAt");
      expectDate(a?.idleExpiresAt, t0 + HOUR, "idleExpiresAt");
      expect(b).toMatchObject({ id: second.session.id, clientId: "mobile" });
      expectDate(b?.lastUsedAt, clock.now(), "lastUsedAt after a refresh");
      expectDate(b?.idleExpiresAt, clock.now() + HOUR, "idleExpiresAt after a refresh");

      // The unused sessions idle out; the refreshed one stays.
      clock.advance(55 * MINUTE);
      expect((await tokens.listSessions(subject)).map((s) => s.id)).toEqual([second.session.id]);
    });

    it("maxSessionsPerSubject revokes the oldest sessions beyond the cap", async () => {
      const { store } = env();
      const { tokens, clock } = harness(env(), { maxSessionsPerSubject: 2 });
      const subject = newSubject();
      const first = await tokens.issue({ subject });
      clock.advance(SECOND);
      const second = await tokens.issue({ subject });
      clock.advance(SECOND);
      const third = await tokens.issue({ subject });
      clock.advance(SECOND);

      expect((await store.getSession(first.session.id))?.revokedAt).toBeInstanceOf(Date);
      await expectGrantError(tokens.refresh(first.refresh_token), "revoked");
      expect((await tokens.listSessions(subject)).map((s) => s.id)).toEqual([
        second.session.id,
        third.session.id,
      ]);
      const fourth = await tokens.issue({ subject });
      expect((await tokens.listSessions(subject)).map((s) => s.id)).toEqual([
        third.session.id,
        fourth.session.id,
      ]);
      await tokens.refresh(third.refresh_token);
    });
  });
}
