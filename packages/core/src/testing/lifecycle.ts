import { base64url } from "jose";
import { describe, expect, it } from "vitest";
import { generateSigningKey } from "../generate-signing-key.js";
import type { SessionRecord } from "../store.js";
import type { TokenResponse } from "../types.js";
import {
  DAY,
  type Env,
  expectDate,
  expectGrantError,
  expectSameSession,
  HOUR,
  harness,
  MINUTE,
  newSubject,
  rejection,
  SECOND,
  taggedRefreshToken,
  unknownRefreshToken,
} from "./harness.js";

/** A signing key no tokens instance of the suite has. */
const otherKey = () => generateSigningKey("EdDSA", { kid: "attacker" });

const REFRESH_TOKEN = /^tokens_rt_[A-Za-z0-9_-]{91}$/;
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Issue, rotation, reuse detection, grace, expiry and client binding, through `createTokens`. */
export function describeLifecycle(env: () => Env): void {
  describe("issue", () => {
    it("issue returns an RFC 6749 token response with the session, and records the session", async () => {
      const { tokens, clock, events } = harness(env(), { accessTokenTtl: 600 });
      const subject = newSubject();
      const now = clock.now();
      const client = { deviceId: "device-1", userAgent: "Agent/1.0", ip: "203.0.113.9" };
      const response = await tokens.issue({
        subject,
        clientId: "web",
        client,
        claims: { role: "admin" },
      });

      expect(Object.keys(response).sort()).toEqual([
        "access_token",
        "expires_in",
        "refresh_token",
        "session",
        "token_type",
      ]);
      expect(response.token_type).toBe("Bearer");
      expect(response.expires_in).toBe(600);
      expect(response.access_token).toMatch(JWT);
      expect(response.refresh_token).toMatch(REFRESH_TOKEN);
      const { session } = response;
      expect(session).toMatchObject({ subject, clientId: "web", client });
      expect(session.id).toMatch(/^[A-Za-z0-9_-]+$/);
      expectDate(session.createdAt, now, "createdAt");
      expectDate(session.lastUsedAt, now, "lastUsedAt");
      expectDate(session.idleExpiresAt, now + 7 * DAY, "idleExpiresAt");
      expectDate(session.expiresAt, now + 30 * DAY, "expiresAt");

      const claims = await tokens.verifyAccessToken(response.access_token);
      expect(claims).toMatchObject({
        iss: "https://issuer.conformance.test",
        sub: subject,
        aud: "https://api.conformance.test",
        client_id: "web",
        sid: session.id,
        role: "admin",
        iat: Math.floor(now / 1000),
        exp: Math.floor(now / 1000) + 600,
      });
      expect(claims.jti).toEqual(expect.any(String));
      expect(events).toContainEqual(
        expect.objectContaining({
          type: "session_created",
          sessionId: session.id,
          subject,
          clientId: "web",
        }),
      );

      const stored = await env().store.getSession(session.id);
      expect(stored).toMatchObject({
        subject,
        clientId: "web",
        generation: 0,
        client,
        claims: { role: "admin" },
      });
      expect(stored?.revokedAt).toBeNull();

      const second = await tokens.issue({ subject });
      expect(second.session.clientId).toBe("default");
      expect(second.session.id).not.toBe(session.id);
      expect(second.refresh_token).not.toBe(response.refresh_token);
    });

    it("the store holds only hashes: no stored field or event contains a refresh token's secret", async () => {
      const { store } = env();
      const { tokens, clock, events } = harness(env());
      const first = await tokens.issue({ subject: newSubject(), client: { deviceId: "d" } });
      clock.advance(MINUTE);
      const second = await tokens.refresh(first.refresh_token, { client: { deviceId: "d" } });

      const session = (await store.getSession(first.session.id)) as SessionRecord;
      expect(session.generation).toBe(1);
      const stored = JSON.stringify(session);
      const emitted = JSON.stringify(events);
      for (const token of [first.refresh_token, second.refresh_token]) {
        // The secret: bytes 20 to 52 of the token's body (after the session id and generation).
        const secret = base64url.decode(token.slice("tokens_rt_".length)).slice(20, 52);
        const encodings = [
          token.slice("tokens_rt_".length),
          base64url.encode(secret),
          btoa(String.fromCharCode(...secret)).replace(/=+$/, ""),
          Array.from(secret, (b) => b.toString(16).padStart(2, "0")).join(""),
        ];
        for (const encoded of encodings) {
          expect(stored).not.toContain(encoded);
          expect(emitted).not.toContain(encoded);
        }
      }
    });

    it("access tokens follow the injected clock: valid until exp (plus tolerance), then expired", async () => {
      const { tokens, clock } = harness(env(), { accessTokenTtl: 60, clockTolerance: 5 });
      const { access_token } = await tokens.issue({ subject: newSubject() });
      clock.advance(64 * SECOND);
      await tokens.verifyAccessToken(access_token);
      clock.advance(2 * SECOND);
      const error = await rejection(tokens.verifyAccessToken(access_token));
      expect(error).toMatchObject({ code: "invalid_token", reason: "expired" });
    });
  });

  describe("refresh", () => {
    it("refresh rotates: a new token for the same session, expiry min(now + idle TTL, absolute end)", async () => {
      const { store } = env();
      const { tokens, clock, events } = harness(env(), {
        refreshIdleTtl: 3600,
        sessionMaxAge: 3 * 3600,
      });
      const subject = newSubject();
      const t0 = clock.now();
      const first = await tokens.issue({ subject, claims: { role: "reader" } });
      const issued = (await store.getSession(first.session.id)) as SessionRecord;

      clock.advance(10 * MINUTE);
      const second = await tokens.refresh(first.refresh_token);
      expect(second.refresh_token).toMatch(REFRESH_TOKEN);
      expect(second.refresh_token).not.toBe(first.refresh_token);
      expect(second.session.id).toBe(first.session.id);
      expectDate(second.session.createdAt, t0, "createdAt");
      expectDate(second.session.lastUsedAt, t0 + 10 * MINUTE, "lastUsedAt");
      expectDate(second.session.idleExpiresAt, t0 + 10 * MINUTE + HOUR, "idleExpiresAt");
      expectDate(second.session.expiresAt, t0 + 3 * HOUR, "expiresAt");
      expect(await tokens.verifyAccessToken(second.access_token)).toMatchObject({
        sub: subject,
        sid: first.session.id,
        role: "reader",
      });
      const rotated = (await store.getSession(first.session.id)) as SessionRecord;
      expect(rotated.generation).toBe(1);
      expect(rotated.previousHash).toBe(issued.currentHash);
      expect(rotated.currentHash).not.toBe(issued.currentHash);
      expectDate(rotated.rotatedAt, t0 + 10 * MINUTE, "rotatedAt");
      expect(events).toContainEqual(
        expect.objectContaining({
          type: "token_rotated",
          sessionId: first.session.id,
          generation: 1,
        }),
      );

      // The first token's idle deadline has passed; the rotated one's has not.
      clock.advance(50 * MINUTE);
      const third = await tokens.refresh(second.refresh_token);
      expectDate(third.session.idleExpiresAt, t0 + 2 * HOUR, "idleExpiresAt");
      clock.advance(55 * MINUTE);
      const fourth = await tokens.refresh(third.refresh_token);
      expectDate(fourth.session.idleExpiresAt, t0 + 2 * HOUR + 55 * MINUTE, "idleExpiresAt");
      // Near the absolute end the idle deadline is capped by it.
      clock.advance(50 * MINUTE);
      const fifth = await tokens.refresh(fourth.refresh_token);
      expectDate(fifth.session.idleExpiresAt, t0 + 3 * HOUR, "idleExpiresAt capped at expiresAt");
      expectDate(
        (await store.getSession(first.session.id))?.idleExpiresAt,
        t0 + 3 * HOUR,
        "stored idleExpiresAt",
      );
      expect((await store.getSession(first.session.id))?.generation).toBe(4);
    });

    it("any older generation is reuse: a spent token from the middle of the family revokes it", async () => {
      const { store } = env();
      const { tokens, clock, events } = harness(env());
      const family = [await tokens.issue({ subject: newSubject() })];
      for (let i = 0; i < 5; i++) {
        clock.advance(MINUTE);
        family.push(await tokens.refresh((family.at(-1) as TokenResponse).refresh_token));
      }
      await expectGrantError(tokens.refresh((family[2] as TokenResponse).refresh_token), "reused");
      expect(events).toContainEqual(
        expect.objectContaining({
          type: "reuse_detected",
          presentedGeneration: 2,
          liveGeneration: 5,
        }),
      );
      expect((await store.getSession(family[0]?.session.id as string))?.revokeReason).toBe(
        "reused",
      );
      await expectGrantError(tokens.refresh((family[5] as TokenResponse).refresh_token), "revoked");
    });

    it("a token two or more generations old is reuse: session revoked, reuse_detected emitted, other sessions untouched", async () => {
      const { store } = env();
      const { tokens, clock, events } = harness(env());
      const subject = newSubject();
      const first = await tokens.issue({ subject });
      const other = await tokens.issue({ subject });
      clock.advance(MINUTE);
      const second = await tokens.refresh(first.refresh_token);
      clock.advance(MINUTE);
      const third = await tokens.refresh(second.refresh_token);
      clock.advance(SECOND);

      await expectGrantError(tokens.refresh(first.refresh_token), "reused");
      expect(events).toContainEqual(
        expect.objectContaining({
          type: "reuse_detected",
          sessionId: first.session.id,
          subject,
          presentedGeneration: 0,
          liveGeneration: 2,
        }),
      );
      const revoked = await store.getSession(first.session.id);
      expectDate(revoked?.revokedAt, clock.now(), "revokedAt");
      expect(revoked?.revokeReason).toBe("reused");
      // The whole family is dead, the live token and the predecessor included.
      await expectGrantError(tokens.refresh(third.refresh_token), "revoked");
      await expectGrantError(tokens.refresh(second.refresh_token), "revoked");
      const denied = await rejection(
        tokens.verifyAccessToken(third.access_token, { checkSession: true }),
      );
      expect(denied).toMatchObject({ code: "invalid_token", reason: "revoked" });

      const untouched = await tokens.refresh(other.refresh_token);
      expect(untouched.session.id).toBe(other.session.id);
      expect((await tokens.listSessions(subject)).map((s) => s.id)).toEqual([other.session.id]);
    });

    it("the predecessor within the grace window returns the same refresh token as the winner, without rotating", async () => {
      const { store } = env();
      const { tokens, clock, events } = harness(env(), { reuseGrace: 10 });
      const first = await tokens.issue({ subject: newSubject() });
      clock.advance(MINUTE);
      const winner = await tokens.refresh(first.refresh_token);
      const afterWin = (await store.getSession(first.session.id)) as SessionRecord;

      clock.advance(10 * SECOND - 1);
      const replay = await tokens.refresh(first.refresh_token);
      const again = await tokens.refresh(first.refresh_token);
      expect(replay.refresh_token).toBe(winner.refresh_token);
      expect(again.refresh_token).toBe(winner.refresh_token);
      expect(replay.session.id).toBe(first.session.id);
      expect((await tokens.verifyAccessToken(replay.access_token)).sid).toBe(first.session.id);
      const stored = (await store.getSession(first.session.id)) as SessionRecord;
      expect(stored.generation).toBe(1);
      expect(stored.currentHash).toBe(afterWin.currentHash);
      expect(stored.revokedAt).toBeNull();
      expect(events.filter((e) => e.type === "token_rotated")).toHaveLength(1);
      expect(events).toContainEqual(
        expect.objectContaining({
          type: "grace_replay",
          sessionId: first.session.id,
          generation: 1,
        }),
      );

      // The winner's lineage lives on.
      const next = await tokens.refresh(winner.refresh_token);
      expect(next.refresh_token).not.toBe(winner.refresh_token);
    });

    it("the predecessor after the grace window is reuse", async () => {
      const { tokens, clock } = harness(env(), { reuseGrace: 10 });
      const first = await tokens.issue({ subject: newSubject() });
      const winner = await tokens.refresh(first.refresh_token);
      clock.advance(10 * SECOND + 1);
      await expectGrantError(tokens.refresh(first.refresh_token), "reused");
      await expectGrantError(tokens.refresh(winner.refresh_token), "revoked");
    });

    it("with reuseGrace 0 the predecessor is reuse at once", async () => {
      const { tokens } = harness(env(), { reuseGrace: 0 });
      const first = await tokens.issue({ subject: newSubject() });
      const winner = await tokens.refresh(first.refresh_token);
      await expectGrantError(tokens.refresh(first.refresh_token), "reused");
      await expectGrantError(tokens.refresh(winner.refresh_token), "revoked");
    });

    it("a refresh token unused for the idle TTL expires (reason expired); expiry is not revocation", async () => {
      const { store } = env();
      const { tokens, clock } = harness(env(), { refreshIdleTtl: 3600 });
      const subject = newSubject();
      const first = await tokens.issue({ subject });
      clock.advance(HOUR - 1);
      const second = await tokens.refresh(first.refresh_token);
      clock.advance(HOUR);
      await expectGrantError(tokens.refresh(second.refresh_token), "expired");
      expect(await tokens.listSessions(subject)).toEqual([]);
      expect((await store.getSession(first.session.id))?.revokedAt).toBeNull();
    });

    it("a session past its absolute lifetime ends (reason session_expired), however active", async () => {
      const { tokens, clock } = harness(env(), { refreshIdleTtl: 3600, sessionMaxAge: 7200 });
      const t0 = clock.now();
      let pair = await tokens.issue({ subject: newSubject() });
      clock.advance(50 * MINUTE);
      pair = await tokens.refresh(pair.refresh_token);
      clock.advance(50 * MINUTE);
      pair = await tokens.refresh(pair.refresh_token);
      expectDate(pair.session.idleExpiresAt, t0 + 2 * HOUR, "idleExpiresAt capped at expiresAt");
      clock.advance(20 * MINUTE - 1);
      pair = await tokens.refresh(pair.refresh_token);
      clock.advance(1);
      await expectGrantError(tokens.refresh(pair.refresh_token), "session_expired");
    });

    it("a forged token naming a live session (its id is every access token's sid) is not_found and leaves the session working", async () => {
      const { store } = env();
      const { tokens, clock, events } = harness(env());
      let pair = await tokens.issue({ subject: newSubject() });
      clock.advance(MINUTE);
      pair = await tokens.refresh(pair.refresh_token);
      clock.advance(MINUTE);
      pair = await tokens.refresh(pair.refresh_token);
      const { sid } = await tokens.verifyAccessToken(pair.access_token);
      const before = (await store.getSession(sid)) as SessionRecord;
      expect(before.generation).toBe(2);

      // Any generation, older ones included: without the server's key the tag cannot verify.
      for (const generation of [0, 1, 2, 3, 4_000_000_000]) {
        await expectGrantError(tokens.refresh(unknownRefreshToken(sid, generation)), "not_found");
        await tokens.revoke(unknownRefreshToken(sid, generation));
      }
      // A correctly tagged token (say, a backup restored behind the client) that the session
      // never reached is not reuse either.
      for (const generation of [2, 3]) {
        await expectGrantError(
          tokens.refresh(taggedRefreshToken(env().keys, sid, generation)),
          "not_found",
        );
      }
      expectSameSession(await store.getSession(sid), before);
      expect(
        events.filter((e) => e.type === "reuse_detected" || e.type === "session_revoked"),
      ).toEqual([]);
      clock.advance(MINUTE);
      expect((await tokens.refresh(pair.refresh_token)).session.id).toBe(sid);
    });

    it("a leaked database row cannot be turned into a refresh token", async () => {
      const { store } = env();
      const { tokens, clock } = harness(env(), { reuseGrace: 60 });
      const first = await tokens.issue({ subject: newSubject(), client: { deviceId: "d" } });
      clock.advance(MINUTE);
      const live = await tokens.refresh(first.refresh_token, { client: { deviceId: "d" } });
      const row = (await store.getSession(first.session.id)) as SessionRecord;
      // Everything secret-shaped in the row, as the secret of a token for this session. Tagged
      // under a key of the attacker's making (the database holds none), and even under the
      // server's own key: the row's values are not the secrets they stand for.
      const candidates = [row.currentHash, row.previousHash, row.sealedSuccessor, row.bindingKey]
        .filter((value): value is string => typeof value === "string")
        .map((value) => base64url.decode(value))
        .filter((bytes) => bytes.length === 32);
      expect(candidates.length).toBeGreaterThanOrEqual(3);
      for (const secret of candidates) {
        for (const generation of [row.generation, row.generation - 1]) {
          await expectGrantError(
            tokens.refresh(taggedRefreshToken([await otherKey()], row.id, generation, secret)),
            "not_found",
          );
        }
        await expectGrantError(
          tokens.refresh(taggedRefreshToken(env().keys, row.id, row.generation, secret), {
            client: { deviceId: "d" },
          }),
          "not_found",
        );
      }
      expectSameSession(await store.getSession(row.id), row);
      clock.advance(MINUTE);
      await tokens.refresh(live.refresh_token, { client: { deviceId: "d" } });
    });

    it("malformed refresh tokens are refused as malformed, unknown ones as not_found", async () => {
      const { tokens } = harness(env());
      const valid = (await tokens.issue({ subject: newSubject() })).refresh_token;
      const malformed: unknown[] = [
        42,
        null,
        undefined,
        {},
        "",
        "not-a-token",
        `${valid}x`,
        valid.slice(0, -1),
        `tokens_rt_${"!".repeat(43)}`,
        `Bearer ${valid}`,
        valid.replace("tokens_rt_", "tokens_at_"),
        "x".repeat(100_000),
      ];
      for (const token of malformed) {
        const error = await rejection(tokens.refresh(token));
        expect(error, String(token).slice(0, 40)).toMatchObject({ reason: "malformed" });
        expect(["invalid_request", "invalid_grant"]).toContain((error as { code: string }).code);
      }
      await expectGrantError(tokens.refresh(unknownRefreshToken()), "not_found");
      // None of that touched the valid token.
      await tokens.refresh(valid);
    });

    it("a refresh naming another client_id is refused (client_mismatch) without spending the token", async () => {
      const { tokens } = harness(env());
      const pair = await tokens.issue({ subject: newSubject(), clientId: "web" });
      await expectGrantError(
        tokens.refresh(pair.refresh_token, { clientId: "mobile" }),
        "client_mismatch",
      );
      const next = await tokens.refresh(pair.refresh_token, { clientId: "web" });
      expect(next.session.clientId).toBe("web");
    });
  });

  describe("client binding", () => {
    it("a refresh from another deviceId is refused (binding_mismatch) without spending the token", async () => {
      const { store } = env();
      const { tokens, events } = harness(env());
      const pair = await tokens.issue({ subject: newSubject(), client: { deviceId: "phone-1" } });
      await expectGrantError(
        tokens.refresh(pair.refresh_token, { client: { deviceId: "phone-2" } }),
        "binding_mismatch",
      );
      expect(events).toContainEqual(
        expect.objectContaining({
          type: "binding_mismatch",
          sessionId: pair.session.id,
          fields: ["deviceId"],
          revoked: false,
        }),
      );
      const stored = await store.getSession(pair.session.id);
      expect(stored?.generation).toBe(0);
      expect(stored?.revokedAt).toBeNull();
      await tokens.refresh(pair.refresh_token, { client: { deviceId: "phone-1" } });
    });

    it("with onMismatch revoke, a binding mismatch also revokes the session", async () => {
      const { store } = env();
      const { tokens, events } = harness(env(), { binding: { onMismatch: "revoke" } });
      const pair = await tokens.issue({ subject: newSubject(), client: { deviceId: "phone-1" } });
      await expectGrantError(
        tokens.refresh(pair.refresh_token, { client: { deviceId: "phone-2" } }),
        "binding_mismatch",
      );
      expect(events).toContainEqual(
        expect.objectContaining({
          type: "binding_mismatch",
          sessionId: pair.session.id,
          revoked: true,
        }),
      );
      expect((await store.getSession(pair.session.id))?.revokedAt).toBeInstanceOf(Date);
      await expectGrantError(
        tokens.refresh(pair.refresh_token, { client: { deviceId: "phone-1" } }),
        "revoked",
      );
    });

    it("with deviceId binding off, another deviceId may refresh", async () => {
      const { tokens } = harness(env(), { binding: { deviceId: "off" } });
      const pair = await tokens.issue({ subject: newSubject(), client: { deviceId: "phone-1" } });
      await tokens.refresh(pair.refresh_token, { client: { deviceId: "phone-2" } });
    });
  });
}
