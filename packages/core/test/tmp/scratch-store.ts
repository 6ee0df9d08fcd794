import type { SessionRecord, TokenRecord, TokenStore } from "../../src/index.js";
export function scratchStore(): TokenStore {
  const sessions = new Map<string, SessionRecord>();
  const tokens = new Map<string, TokenRecord>();
  return {
    async createSession(s, t) {
      sessions.set(s.id, { ...s });
      tokens.set(t.hash, { ...t });
    },
    async findToken(h) {
      const t = tokens.get(h);
      if (!t) return null;
      const s = sessions.get(t.sessionId);
      return s ? { token: { ...t }, session: { ...s } } : null;
    },
    async rotate(r) {
      const s = sessions.get(r.sessionId);
      if (!s || s.revokedAt || s.currentHash !== r.expectedHash) return false;
      tokens.set(r.successor.hash, { ...r.successor });
      sessions.set(s.id, {
        ...s,
        generation: s.generation + 1,
        previousHash: s.currentHash,
        currentHash: r.successor.hash,
        sealedSuccessor: r.sealedSuccessor,
        rotatedAt: r.rotatedAt,
        lastUsedAt: r.rotatedAt,
        idleExpiresAt: r.idleExpiresAt,
      });
      return true;
    },
    async getSession(id) {
      const s = sessions.get(id);
      return s ? { ...s } : null;
    },
    async listSessions(sub, now) {
      return [...sessions.values()].filter(
        (s) => s.subject === sub && !s.revokedAt && s.expiresAt > now && s.idleExpiresAt > now,
      );
    },
    async revokeSession(id, at, reason) {
      const s = sessions.get(id);
      if (!s || s.revokedAt) return false;
      s.revokedAt = at;
      s.revokeReason = reason;
      return true;
    },
    async revokeSubject(sub, at, reason) {
      let n = 0;
      for (const s of sessions.values())
        if (s.subject === sub && !s.revokedAt) {
          s.revokedAt = at;
          s.revokeReason = reason;
          n++;
        }
      return n;
    },
    async purge() {
      return 0;
    },
  };
}
