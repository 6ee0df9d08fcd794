import type {
  ClientContext,
  LiveRotation,
  Rotation,
  SessionRecord,
  TokenRecord,
  TokenStore,
  TokenWithSession,
} from "@tokens/core";

/**
 * A {@link TokenStore} that keeps sessions and tokens in `Map`s inside the current process.
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
  const tokens = new Map<string, TokenRecord>();
  // Indexes, so that purge and revokeSubject need not scan every token.
  const tokensOfSession = new Map<string, Set<string>>();
  const sessionsOfSubject = new Map<string, Set<string>>();

  function sessionsOf(subject: string): SessionRecord[] {
    const ids = sessionsOfSubject.get(subject) ?? new Set<string>();
    return [...ids].map((id) => sessions.get(id)).filter((s) => s !== undefined);
  }

  function revoke(session: SessionRecord, at: Date, reason: string): boolean {
    if (session.revokedAt) return false;
    sessions.set(session.id, { ...session, revokedAt: copyDate(at), revokeReason: reason });
    return true;
  }

  /** The write half of a rotation, once the caller has checked the session may rotate. */
  function install(session: SessionRecord, rotation: Rotation): SessionRecord {
    if (tokens.has(rotation.successor.hash)) {
      throw new Error("memoryStore: a token with the successor's hash already exists");
    }
    tokens.set(rotation.successor.hash, copyToken(rotation.successor));
    tokensOfSession.get(session.id)?.add(rotation.successor.hash);
    const rotated: SessionRecord = {
      ...session,
      generation: session.generation + 1,
      previousHash: rotation.expectedHash,
      currentHash: rotation.successor.hash,
      sealedSuccessor: rotation.sealedSuccessor,
      rotatedAt: copyDate(rotation.rotatedAt),
      lastUsedAt: copyDate(rotation.rotatedAt),
      idleExpiresAt: copyDate(rotation.idleExpiresAt),
    };
    sessions.set(session.id, rotated);
    return rotated;
  }

  /** The session `rotateLive` may rotate: live at `rotatedAt`, naming the hash, same client. */
  function liveSession(rotation: LiveRotation): SessionRecord | undefined {
    const token = tokens.get(rotation.expectedHash);
    const session = token && sessions.get(token.sessionId);
    const at = rotation.rotatedAt.getTime();
    if (
      !session ||
      session.revokedAt ||
      session.currentHash !== rotation.expectedHash ||
      session.expiresAt.getTime() <= at ||
      session.idleExpiresAt.getTime() <= at ||
      (rotation.clientId !== undefined && session.clientId !== rotation.clientId) ||
      session.bindingKey !== rotation.bindingKey
    ) {
      return undefined;
    }
    return session;
  }

  function remove(session: SessionRecord): void {
    for (const hash of tokensOfSession.get(session.id) ?? []) tokens.delete(hash);
    tokensOfSession.delete(session.id);
    sessions.delete(session.id);
    const ofSubject = sessionsOfSubject.get(session.subject);
    ofSubject?.delete(session.id);
    if (ofSubject?.size === 0) sessionsOfSubject.delete(session.subject);
  }

  // The methods are `async` only so that they return promises (and failures become
  // rejections); none of them awaits, which is what makes each one atomic.
  return {
    async createSession(session: SessionRecord, token: TokenRecord): Promise<void> {
      if (sessions.has(session.id))
        throw new Error(`memoryStore: session ${session.id} already exists`);
      if (tokens.has(token.hash))
        throw new Error("memoryStore: a token with this hash already exists");
      sessions.set(session.id, copySession(session));
      tokens.set(token.hash, copyToken(token));
      tokensOfSession.set(session.id, new Set([token.hash]));
      const ofSubject = sessionsOfSubject.get(session.subject) ?? new Set<string>();
      ofSubject.add(session.id);
      sessionsOfSubject.set(session.subject, ofSubject);
    },

    async findToken(hash: string): Promise<TokenWithSession | null> {
      const token = tokens.get(hash);
      const session = token && sessions.get(token.sessionId);
      if (!token || !session) return null;
      return { token: copyToken(token), session: copySession(session) };
    },

    async rotate(rotation: Rotation): Promise<boolean> {
      const session = sessions.get(rotation.sessionId);
      if (!session || session.revokedAt || session.currentHash !== rotation.expectedHash)
        return false;
      install(session, rotation);
      return true;
    },

    async rotateLive(rotation: LiveRotation): Promise<SessionRecord | null> {
      const session = liveSession(rotation);
      if (!session) return null;
      const rotated = install(session, {
        sessionId: session.id,
        expectedHash: rotation.expectedHash,
        successor: {
          hash: rotation.successorHash,
          sessionId: session.id,
          generation: session.generation + 1,
          createdAt: rotation.rotatedAt,
        },
        sealedSuccessor: rotation.sealedSuccessor,
        rotatedAt: rotation.rotatedAt,
        idleExpiresAt: new Date(
          Math.min(rotation.idleExpiresAt.getTime(), session.expiresAt.getTime()),
        ),
      });
      return copySession(rotated);
    },

    async getSession(id: string): Promise<SessionRecord | null> {
      const session = sessions.get(id);
      return session ? copySession(session) : null;
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
          (session.revokedAt && session.revokedAt.getTime() < cutoff) ||
          session.idleExpiresAt.getTime() < cutoff ||
          session.expiresAt.getTime() < cutoff
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
    revokedAt: copyDateOrNull(session.revokedAt),
    revokeReason: session.revokeReason,
    client: copyJson<ClientContext>(session.client),
    bindingKey: session.bindingKey ?? null,
    claims: copyJson<Record<string, unknown>>(session.claims),
  };
}

function copyToken(token: TokenRecord): TokenRecord {
  return {
    hash: token.hash,
    sessionId: token.sessionId,
    generation: token.generation,
    createdAt: copyDate(token.createdAt),
  };
}
