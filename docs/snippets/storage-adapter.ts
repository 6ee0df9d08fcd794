import type {
  Rotation,
  SessionRecord,
  TokenRecord,
  TokenStore,
  TokenWithSession,
} from "@tokens/core";

/** Your database client: here any PostgreSQL client with parameterised queries. */
export interface Sql {
  query<Row>(text: string, values: unknown[]): Promise<{ rows: Row[]; rowCount: number | null }>;
}

declare function toSession(row: unknown): SessionRecord;
declare function toToken(row: unknown): TokenRecord;
declare function sessionValues(session: SessionRecord): unknown[];

// #region rotate
export function myStore(sql: Sql): TokenStore {
  return {
    // The compare-and-set: one statement, so exactly one of N concurrent callers wins.
    async rotate(r: Rotation): Promise<boolean> {
      const result = await sql.query(
        `WITH s AS (
           UPDATE tokens_sessions
              SET generation = generation + 1, previous_hash = current_hash,
                  current_hash = $3, sealed_successor = $4, rotated_at = $5,
                  last_used_at = $5, idle_expires_at = $6
            WHERE id = $1 AND current_hash = $2 AND revoked_at IS NULL
        RETURNING id)
         INSERT INTO tokens_refresh_tokens (hash, session_id, generation, created_at)
         SELECT $3, s.id, $7, $5 FROM s`,
        [
          r.sessionId,
          r.expectedHash,
          r.successor.hash,
          r.sealedSuccessor,
          r.rotatedAt,
          r.idleExpiresAt,
          r.successor.generation,
        ],
      );
      return result.rowCount === 1;
    },
    // #endregion

    async createSession(session: SessionRecord, token: TokenRecord): Promise<void> {
      await sql.query(
        `WITH s AS (INSERT INTO tokens_sessions VALUES (${placeholders(16)}) RETURNING id)
         INSERT INTO tokens_refresh_tokens SELECT $17, s.id, $18, $19 FROM s`,
        [...sessionValues(session), token.hash, token.generation, token.createdAt],
      );
    },

    async findToken(hash: string): Promise<TokenWithSession | null> {
      const { rows } = await sql.query(
        `SELECT to_jsonb(t) AS token, to_jsonb(s) AS session
           FROM tokens_refresh_tokens t JOIN tokens_sessions s ON s.id = t.session_id
          WHERE t.hash = $1`,
        [hash],
      );
      const row = rows[0] as { token: unknown; session: unknown } | undefined;
      return row ? { token: toToken(row.token), session: toSession(row.session) } : null;
    },

    async getSession(id: string): Promise<SessionRecord | null> {
      const { rows } = await sql.query("SELECT * FROM tokens_sessions WHERE id = $1", [id]);
      return rows[0] ? toSession(rows[0]) : null;
    },

    async listSessions(subject: string, now: Date): Promise<SessionRecord[]> {
      const { rows } = await sql.query(
        `SELECT * FROM tokens_sessions
          WHERE subject = $1 AND revoked_at IS NULL AND idle_expires_at > $2 AND expires_at > $2
          ORDER BY created_at`,
        [subject, now],
      );
      return rows.map(toSession);
    },

    async revokeSession(id: string, at: Date, reason: string): Promise<boolean> {
      const { rowCount } = await sql.query(
        `UPDATE tokens_sessions SET revoked_at = $2, revoke_reason = $3
          WHERE id = $1 AND revoked_at IS NULL`,
        [id, at, reason],
      );
      return rowCount === 1;
    },

    async revokeSubject(subject: string, at: Date, reason: string): Promise<number> {
      const { rowCount } = await sql.query(
        `UPDATE tokens_sessions SET revoked_at = $2, revoke_reason = $3
          WHERE subject = $1 AND revoked_at IS NULL`,
        [subject, at, reason],
      );
      return rowCount ?? 0;
    },

    // Token rows go with their session (ON DELETE CASCADE in the schema).
    async purge(before: Date, limit: number): Promise<number> {
      const { rowCount } = await sql.query(
        `DELETE FROM tokens_sessions WHERE id IN (
           SELECT id FROM tokens_sessions
            WHERE revoked_at < $1 OR idle_expires_at < $1 OR expires_at < $1
            LIMIT $2)`,
        [before, limit],
      );
      return rowCount ?? 0;
    },
  };
}

function placeholders(count: number): string {
  return Array.from({ length: count }, (_, i) => `$${i + 1}`).join(", ");
}
