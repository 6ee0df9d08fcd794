import {
  type ClientContext,
  type Rotation,
  rotatedSession,
  type SessionRecord,
  type TokenStore,
} from "@tokens/core";

/**
 * A {@link TokenStore} that keeps sessions in a `Map` inside the current process.
 *
 * Meant for tests, local development and single-process apps that accept losing every session
 * on restart. It is not shared between processes, workers or server instances: run a database
 * store (`@tokens/drizzle`, `@tokens/prisma`, `@tokens/mongodb`) as soon as there is more than
 * one. It has no Node-specific imports, so it runs on Node, Bun, Deno and workers alike.
 *
 * Rotation is atomic because every method does all of its checking and writing synchronously,
 * with no `await` in between: JavaScript runs one of them to completion before any other
 * starts. Records are copied on the way in and on the way out (dates included), so callers
 * never share mutable state with the store; `client` and `claims` are copied as JSON, the way a
 * database column would keep them.
 *
 * @example
 * ```ts
 * import { createTokens, generateSigningKey } from "@tokens/core";
 * import { memoryStore } from "@tokens/memory";
 *
 * const tokens = createTokens({
 *   issuer: "https://auth.example.com",
 *   audience: "https://api.example.com",
 *   keys: [await generateSigningKey("EdDSA")],
 *   store: memoryStore(),
 * });
 *
 * const pair = await tokens.issue({ subject: "user-1" });
 * const next = await tokens.refresh(pair.refresh_token);
 * ```
 */
export function memoryStore(): TokenStore {
  const sessions = new Map<string, SessionRecord>();
  // An index, so that listSessions and revokeSubject need not scan every session.
  const sessionsOfSubject = new Map<string, Set<string>>();

  function sessionsOf(subject: string): SessionRecord[] {
    const ids = sessionsOfSubject.get(subject) ?? new Set<string>();
    return [...ids].map((id) => sessions.get(id)).filter((s) => s !== undefined);
  }

  function revoke(session: SessionRecord, at: Date, reason: string): boolean {
    if (session.revokedAt) return false;
    sessions.set(session.id, {
      ...session,
      revokedAt: copyDate(at),
      revokeReason: reason,
      purgeAfter: earlier(session.purgeAfter, at),
    });
    return true;
  }

  /** Whether `rotation` may rotate `session`: live at `rotatedAt`, naming the hash, same client. */
  function mayRotate(session: SessionRecord | undefined, rotation: Rotation): boolean {
    const at = rotation.rotatedAt.getTime();
    return (
      session !== undefined &&
      !session.revokedAt &&
      session.currentHash === rotation.expectedHash &&
      session.expiresAt.getTime() > at &&
      session.idleExpiresAt.getTime() > at &&
      (rotation.clientId === undefined || session.clientId === rotation.clientId) &&
      (rotation.bindingKey === undefined || session.bindingKey === rotation.bindingKey) &&
      (session.dpopJkt === null || session.dpopJkt === rotation.dpopJkt)
    );
  }

  function remove(session: SessionRecord): void {
    sessions.delete(session.id);
    const ofSubject = sessionsOfSubject.get(session.subject);
    ofSubject?.delete(session.id);
    if (ofSubject?.size === 0) sessionsOfSubject.delete(session.subject);
  }

  // The methods are `async` only so that they return promises (and failures become
  // rejections); none of them awaits, which is what makes each one atomic.
  return {
    async createSession(session: SessionRecord): Promise<void> {
      if (sessions.has(session.id))
        throw new Error(`memoryStore: session ${session.id} already exists`);
      sessions.set(session.id, copySession(session));
      const ofSubject = sessionsOfSubject.get(session.subject) ?? new Set<string>();
      ofSubject.add(session.id);
      sessionsOfSubject.set(session.subject, ofSubject);
    },

    async getSession(id: string): Promise<SessionRecord | null> {
      const session = sessions.get(id);
      return session ? copySession(session) : null;
    },

    async rotate(rotation: Rotation): Promise<SessionRecord | null> {
      const session = sessions.get(rotation.sessionId);
      if (!session || !mayRotate(session, rotation)) return null;
      const rotated = rotatedSession(session, rotation);
      sessions.set(session.id, rotated);
      return copySession(rotated);
    },

    async listSessions(subject: string, now: Date): Promise<SessionRecord[]> {
      const at = now.getTime();
      return sessionsOf(subject)
        .filter((s) => !s.revokedAt && s.idleExpiresAt.getTime() > at && s.expiresAt.getTime() > at)
        .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
        .map(copySession);
    },

    async revokeSession(id: string, at: Date, reason: string): Promise<boolean> {
      const session = sessions.get(id);
      return session ? revoke(session, at, reason) : false;
    },

    async revokeSubject(subject: string, at: Date, reason: string): Promise<number> {
      let count = 0;
      for (const session of sessionsOf(subject)) if (revoke(session, at, reason)) count++;
      return count;
    },

    async purge(before: Date, limit: number): Promise<number> {
      const cutoff = before.getTime();
      const ended: SessionRecord[] = [];
      for (const session of sessions.values()) {
        if (ended.length >= limit) break;
        if (
          session.purgeAfter.getTime() < cutoff &&
          ((session.revokedAt && session.revokedAt.getTime() < cutoff) ||
            session.idleExpiresAt.getTime() < cutoff ||
            session.expiresAt.getTime() < cutoff)
        ) {
          ended.push(session);
        }
      }
      for (const session of ended) remove(session);
      return ended.length;
    },
  };
}

function copyDate(date: Date): Date {
  return new Date(date.getTime());
}

function copyDateOrNull(date: Date | null): Date | null {
  return date ? copyDate(date) : null;
}

/** A copy of the earlier of two instants. */
function earlier(a: Date, b: Date): Date {
  return copyDate(a.getTime() <= b.getTime() ? a : b);
}

/** A deep copy with JSON semantics: what a JSON column gives back. */
function copyJson<T>(value: T | null): T | null {
  return value === null || value === undefined ? null : (JSON.parse(JSON.stringify(value)) as T);
}

function copySession(session: SessionRecord): SessionRecord {
  return {
    id: session.id,
    subject: session.subject,
    clientId: session.clientId,
    generation: session.generation,
    currentHash: session.currentHash,
    previousHash: session.previousHash,
    sealedSuccessor: session.sealedSuccessor,
    rotatedAt: copyDateOrNull(session.rotatedAt),
    createdAt: copyDate(session.createdAt),
    lastUsedAt: copyDate(session.lastUsedAt),
    idleExpiresAt: copyDate(session.idleExpiresAt),
    expiresAt: copyDate(session.expiresAt),
    purgeAfter: copyDate(session.purgeAfter),
    revokedAt: copyDateOrNull(session.revokedAt),
    revokeReason: session.revokeReason,
    client: copyJson<ClientContext>(session.client),
    bindingKey: session.bindingKey ?? null,
    claims: copyJson<Record<string, unknown>>(session.claims),
    dpopJkt: session.dpopJkt ?? null,
  };
}
