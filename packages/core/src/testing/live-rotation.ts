import { describe, expect, it } from "vitest";
import type { LiveRotation, SessionRecord, TokenStore } from "../store.js";
import {
  DAY,
  type Env,
  expectSameSession,
  expectSameToken,
  HOUR,
  MINUTE,
  randomHash,
  randomText,
  rotationOf,
  SECOND,
  sessionRecord,
} from "./harness.js";

/** The live rotation core would ask for at `at`: same client, same binding key. */
function liveRotationOf(
  session: SessionRecord,
  at: number,
  overrides: Partial<LiveRotation> = {},
): LiveRotation {
  return {
    expectedHash: session.currentHash,
    successorHash: randomHash(),
    sealedSuccessor: randomText(32),
    rotatedAt: new Date(at),
    idleExpiresAt: new Date(at + HOUR),
    clientId: session.clientId,
    bindingKey: session.bindingKey,
    ...overrides,
  };
}

/** The session as `rotateLive` must leave (and return) it. */
function rotatedBy(session: SessionRecord, rotation: LiveRotation): SessionRecord {
  return {
    ...session,
    generation: session.generation + 1,
    previousHash: rotation.expectedHash,
    currentHash: rotation.successorHash,
    sealedSuccessor: rotation.sealedSuccessor,
    rotatedAt: rotation.rotatedAt,
    lastUsedAt: rotation.rotatedAt,
    idleExpiresAt: new Date(
      Math.min(rotation.idleExpiresAt.getTime(), session.expiresAt.getTime()),
    ),
  };
}

/**
 * `store.rotateLive`, or — when the store does not implement it — a skip of the test, or a
 * failure if the suite was told the store implements it.
 */
function liveOf(
  store: TokenStore,
  context: { skip: (note?: string) => never },
  declared: boolean | undefined,
): (rotation: LiveRotation) => Promise<SessionRecord | null> {
  const { rotateLive } = store;
  if (typeof rotateLive !== "function") {
    if (declared) throw new Error("the store was declared to implement rotateLive but does not");
    return context.skip(
      "the store does not implement rotateLive (core falls back to findToken + rotate)",
    );
  }
  return (rotation) => rotateLive.call(store, rotation);
}

/**
 * The optional one-step rotation. `declared` is the suite's `rotateLive` option: `false` checks
 * only that the method is absent.
 */
export function describeLiveRotation(env: () => Env, declared: boolean | undefined): void {
  if (declared === false) {
    it("does not implement rotateLive, as declared (core takes findToken + rotate)", () => {
      expect(env().store.rotateLive).toBeUndefined();
    });
    return;
  }
  describe("rotateLive", () => {
    it("rotates the live token: resolves the rotated session, the successor row is findable, the spent one leads back", async (context) => {
      const { store } = env();
      const rotateLive = liveOf(store, context, declared);
      const at = Date.now() - (Date.now() % 1000) + 321;
      const { session, token } = sessionRecord({
        at,
        clientId: "mobile-app",
        client: { deviceId: "d-1" },
        bindingKey: randomHash(),
        claims: { role: "admin" },
      });
      await store.createSession(session, token);

      const rotation = liveRotationOf(session, at + 61 * SECOND + 7);
      const expected = rotatedBy(session, rotation);
      expectSameSession(await rotateLive(rotation), expected);
      expectSameSession(await store.getSession(session.id), expected);
      const successor = await store.findToken(rotation.successorHash);
      expectSameToken(successor?.token, {
        hash: rotation.successorHash,
        sessionId: session.id,
        generation: 1,
        createdAt: rotation.rotatedAt,
      });
      expectSameSession(successor?.session, expected);
      const spent = await store.findToken(token.hash);
      expectSameToken(spent?.token, token);
      expect(spent?.session.previousHash).toBe(token.hash);

      // Again from the successor, without a clientId, asking for an idle deadline past the
      // session's end: capped at expiresAt.
      const { clientId: _omitted, ...second } = liveRotationOf(expected, at + 30 * MINUTE, {
        idleExpiresAt: new Date(at + 2 * DAY),
      });
      const twice = rotatedBy(expected, second);
      expect(twice.idleExpiresAt.getTime()).toBe(session.expiresAt.getTime());
      expectSameSession(await rotateLive(second), twice);
      expectSameToken((await store.findToken(second.successorHash))?.token, {
        hash: second.successorHash,
        sessionId: session.id,
        generation: 2,
        createdAt: second.rotatedAt,
      });
    });

    it("a null bindingKey matches a null bindingKey", async (context) => {
      const { store } = env();
      const rotateLive = liveOf(store, context, declared);
      const { session, token } = sessionRecord();
      await store.createSession(session, token);
      const rotation = liveRotationOf(session, Date.now(), { bindingKey: null });
      expectSameSession(await rotateLive(rotation), rotatedBy(session, rotation));
    });

    describe("refuses, resolving null and changing nothing", () => {
      const refusals: Array<{
        name: string;
        prepare?: (store: TokenStore, session: SessionRecord) => Promise<void>;
        fields?: Partial<SessionRecord>;
        rotation: (session: SessionRecord, at: number) => Partial<LiveRotation>;
      }> = [
        { name: "an unknown hash", rotation: () => ({ expectedHash: randomHash() }) },
        {
          name: "a spent hash",
          prepare: async (store, session) => {
            expect(await store.rotate(rotationOf(session, Date.now()))).toBe(true);
          },
          rotation: (session) => ({ expectedHash: session.previousHash as string }),
        },
        {
          name: "a revoked session",
          prepare: async (store, session) => {
            expect(await store.revokeSession(session.id, new Date(), "logout")).toBe(true);
          },
          rotation: () => ({}),
        },
        {
          name: "an idle-expired session (rotatedAt at idleExpiresAt)",
          rotation: (session) => ({ rotatedAt: session.idleExpiresAt }),
        },
        {
          name: "an idle-expired session (rotatedAt past idleExpiresAt)",
          rotation: (session) => ({ rotatedAt: new Date(session.idleExpiresAt.getTime() + 1) }),
        },
        {
          name: "a session past its lifetime (rotatedAt at expiresAt)",
          fields: { idleExpiresAt: new Date(Date.now() + 2 * DAY) },
          rotation: (session) => ({ rotatedAt: session.expiresAt }),
        },
        { name: "another clientId", rotation: () => ({ clientId: "another-client" }) },
        { name: "another bindingKey", rotation: () => ({ bindingKey: randomHash() }) },
        { name: "a null bindingKey for a bound session", rotation: () => ({ bindingKey: null }) },
        {
          name: "a bindingKey for a session without one",
          fields: { bindingKey: null },
          rotation: () => ({ bindingKey: randomHash() }),
        },
      ];
      for (const refusal of refusals) {
        it(refusal.name, async (context) => {
          const { store } = env();
          const rotateLive = liveOf(store, context, declared);
          const at = Date.now();
          const { session, token } = sessionRecord({
            at,
            clientId: "web",
            bindingKey: randomHash(),
            ...refusal.fields,
          });
          await store.createSession(session, token);
          await refusal.prepare?.(store, session);
          const before = (await store.getSession(session.id)) as SessionRecord;
          const rotation = liveRotationOf(before, at + MINUTE, refusal.rotation(before, at));
          expect(await rotateLive(rotation)).toBeNull();
          expectSameSession(await store.getSession(session.id), before);
          expect(await store.findToken(rotation.successorHash)).toBeNull();
        });
      }
    });

    it("N concurrent rotateLive calls for one hash through independent connections: exactly one succeeds, one lineage", async (context) => {
      const { stores, concurrency, store } = env();
      liveOf(store, context, declared);
      const { session, token } = sessionRecord({ bindingKey: randomHash() });
      await store.createSession(session, token);
      const at = Date.now();
      const attempts = Array.from({ length: concurrency }, () => liveRotationOf(session, at));
      const results = await Promise.all(
        attempts.map((rotation, i) => {
          const peer = stores[i % stores.length] as TokenStore;
          return liveOf(peer, context, declared)(rotation);
        }),
      );
      const winners = attempts.filter((_, i) => results[i] !== null);
      expect(winners, "rotateLive calls that resolved a session").toHaveLength(1);
      const [winner] = winners as [LiveRotation];
      const stored = (await store.getSession(session.id)) as SessionRecord;
      expectSameSession(stored, rotatedBy(session, winner));
      for (const rotation of attempts) {
        if (rotation === winner) continue;
        // A loser's successor is never named by the session, so it can never be refreshed.
        expect(stored.currentHash).not.toBe(rotation.successorHash);
        const found = await store.findToken(rotation.successorHash);
        if (found) expect(found.session.currentHash).not.toBe(rotation.successorHash);
      }
      expect((await store.findToken(winner.successorHash))?.token.generation).toBe(1);
    });

    it("concurrent rotate and rotateLive calls for one hash: exactly one of them wins", async (context) => {
      const { stores, concurrency, store } = env();
      liveOf(store, context, declared);
      const { session, token } = sessionRecord();
      await store.createSession(session, token);
      const at = Date.now();
      const outcomes = await Promise.all(
        Array.from({ length: concurrency }, async (_, i) => {
          const peer = stores[i % stores.length] as TokenStore;
          if (i % 2 === 0) {
            const rotation = rotationOf(session, at);
            return (await peer.rotate(rotation)) ? rotation.successor.hash : null;
          }
          const rotation = liveRotationOf(session, at);
          return (await liveOf(peer, context, declared)(rotation)) ? rotation.successorHash : null;
        }),
      );
      const won = outcomes.filter((hash) => hash !== null);
      expect(won, "calls that rotated").toHaveLength(1);
      const stored = (await store.getSession(session.id)) as SessionRecord;
      expect(stored.generation).toBe(1);
      expect(stored.currentHash).toBe(won[0]);
      expect(stored.previousHash).toBe(token.hash);
    });
  });
}
