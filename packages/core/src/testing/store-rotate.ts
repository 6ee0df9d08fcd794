import { describe, expect, it } from "vitest";
import type { Rotation, SessionRecord, TokenStore } from "../store.js";
import {
  DAY,
  type Env,
  expectSameSession,
  HOUR,
  MINUTE,
  raceTest,
  randomHash,
  randomText,
  rotatedBy,
  rotationOf,
  SECOND,
  sessionRecord,
} from "./harness.js";

/** `store.rotate`, the one conditional write of the refresh path, called directly. */
export function describeRotate(env: () => Env, nonAtomic?: string): void {
  describe("store.rotate", () => {
    it("rotates the live hash: resolves the rotated session, and the row reads back the same", async () => {
      const { store } = env();
      const at = Date.now() - (Date.now() % 1000) + 321;
      const session = sessionRecord({
        at,
        clientId: "mobile-app",
        client: { deviceId: "d-1" },
        bindingKey: randomHash(),
        claims: { role: "admin" },
        dpopJkt: randomHash(),
      });
      await store.createSession(session);

      const rotation = rotationOf(session, at + 61 * SECOND + 7);
      const expected = rotatedBy(session, rotation);
      expectSameSession(await store.rotate(rotation), expected);
      expectSameSession(await store.getSession(session.id), expected);

      // Again from the successor, without a clientId or a bindingKey (not compared then),
      // asking for an idle deadline and purgeAfter past the session's end: both capped at it.
      const {
        clientId: _client,
        bindingKey: _binding,
        ...second
      } = rotationOf(expected, at + 30 * MINUTE, {
        idleExpiresAt: new Date(at + 2 * DAY),
        purgeAfter: new Date(at + 2 * DAY),
      });
      const twice = rotatedBy(expected, second);
      expect(twice.idleExpiresAt.getTime()).toBe(session.expiresAt.getTime());
      expect(twice.purgeAfter.getTime()).toBe(session.expiresAt.getTime());
      expectSameSession(await store.rotate(second), twice);
      expect((await store.getSession(session.id))?.generation).toBe(2);
    });

    it("a null bindingKey matches a null bindingKey", async () => {
      const { store } = env();
      const session = sessionRecord();
      await store.createSession(session);
      const rotation = rotationOf(session, Date.now(), { bindingKey: null });
      expectSameSession(await store.rotate(rotation), rotatedBy(session, rotation));
    });

    it("an unbound session rotates with or without a DPoP key; a bound one with its own key", async () => {
      const { store } = env();
      const unbound = sessionRecord();
      await store.createSession(unbound);
      const proved = rotationOf(unbound, Date.now(), { dpopJkt: randomHash() });
      const rotated = rotatedBy(unbound, proved);
      expect(rotated.dpopJkt).toBeNull();
      expectSameSession(await store.rotate(proved), rotated);
      const unproved = rotationOf(rotated, Date.now(), { dpopJkt: null });
      expectSameSession(await store.rotate(unproved), rotatedBy(rotated, unproved));

      const key = randomHash();
      const bound = sessionRecord({ dpopJkt: key });
      await store.createSession(bound);
      const own = rotationOf(bound, Date.now(), { dpopJkt: key });
      expectSameSession(await store.rotate(own), rotatedBy(bound, own));
    });

    it("rotations of many sessions started together: each its own compare-and-set", async () => {
      // A store may run rotations that arrive together as one statement: each must still
      // rotate its own row only, and a refused one (or one of another shape) changes nothing.
      const { store } = env();
      const at = Date.now();
      const sessions = Array.from({ length: 12 }, (_, i) =>
        sessionRecord({
          at,
          clientId: `client-${i % 2}`,
          dpopJkt: i % 3 === 0 ? randomHash() : null,
        }),
      );
      for (const session of sessions) await store.createSession(session);
      const rotations = sessions.map((session, i) =>
        rotationOf(session, at + MINUTE, {
          expectedHash: i % 4 === 1 ? randomHash() : session.currentHash,
          dpopJkt: session.dpopJkt,
          ...(i % 2 === 0 ? {} : { clientId: undefined }),
        }),
      );
      const results = await Promise.all(rotations.map((rotation) => store.rotate(rotation)));
      for (const [i, session] of sessions.entries()) {
        const rotation = rotations[i] as Rotation;
        const expected = i % 4 === 1 ? session : rotatedBy(session, rotation);
        if (i % 4 === 1) expect(results[i]).toBeNull();
        else expectSameSession(results[i] ?? null, expected);
        expectSameSession(await store.getSession(session.id), expected);
      }
    });

    describe("refuses, resolving null and changing nothing", () => {
      const otherLiveHash = randomHash();
      const refusals: Array<{
        name: string;
        prepare?: (store: TokenStore, session: SessionRecord) => Promise<void>;
        fields?: Partial<SessionRecord>;
        rotation: (session: SessionRecord, at: number) => Partial<Rotation>;
      }> = [
        { name: "an unknown session", rotation: () => ({ sessionId: randomText() }) },
        { name: "an unknown hash", rotation: () => ({ expectedHash: randomHash() }) },
        {
          name: "a spent hash",
          prepare: async (store, session) => {
            expect(await store.rotate(rotationOf(session, Date.now()))).not.toBeNull();
          },
          rotation: (session) => ({ expectedHash: session.previousHash as string }),
        },
        {
          name: "another session's live hash",
          prepare: async (store) => {
            await store.createSession(sessionRecord({ currentHash: otherLiveHash }));
          },
          rotation: () => ({ expectedHash: otherLiveHash }),
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
        {
          name: "another DPoP key for a bound session",
          fields: { dpopJkt: randomHash() },
          rotation: () => ({ dpopJkt: randomHash() }),
        },
        {
          name: "no DPoP key for a bound session",
          fields: { dpopJkt: randomHash() },
          rotation: () => ({ dpopJkt: null }),
        },
      ];
      for (const refusal of refusals) {
        it(refusal.name, async () => {
          const { store } = env();
          const at = Date.now();
          const session = sessionRecord({
            at,
            clientId: "web",
            bindingKey: randomHash(),
            ...refusal.fields,
          });
          await store.createSession(session);
          await refusal.prepare?.(store, session);
          const before = (await store.getSession(session.id)) as SessionRecord;
          const rotation = rotationOf(before, at + MINUTE, refusal.rotation(before, at));
          expect(await store.rotate(rotation)).toBeNull();
          expectSameSession(await store.getSession(session.id), before);
        });
      }
    });

    raceTest(nonAtomic)(
      "N concurrent rotate calls for one hash through independent connections: exactly one resolves a session, one lineage",
      async () => {
        const { stores, concurrency, store } = env();
        const session = sessionRecord({ bindingKey: randomHash() });
        await store.createSession(session);
        const at = Date.now();
        const attempts = Array.from({ length: concurrency }, () => rotationOf(session, at));
        const results = await Promise.all(
          attempts.map((rotation, i) => (stores[i % stores.length] as TokenStore).rotate(rotation)),
        );
        const winners = attempts.filter((_, i) => results[i] !== null);
        expect(winners, "rotate calls that resolved a session").toHaveLength(1);
        const [winner] = winners as [Rotation];
        expectSameSession(await store.getSession(session.id), rotatedBy(session, winner));
        // And the winner's successor rotates further, exactly once more.
        const next = rotationOf(rotatedBy(session, winner), at + HOUR / 2);
        expect(await store.rotate(next)).not.toBeNull();
        expect(await store.rotate({ ...next, successorHash: randomHash() })).toBeNull();
      },
    );
  });
}
