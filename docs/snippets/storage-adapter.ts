import type { Rotation, SessionRecord, TokenStore } from "@tokens/core";

/** Your database client: here any PostgreSQL client with parameterised queries. */
export interface Sql {
  query<Row>(text: string, values: unknown[]): Promise<{ rows: Row[]; rowCount: number | null }>;
}

declare function toSession(row: unknown): SessionRecord;
declare function sessionValues(session: SessionRecord): unknown[];

// #region rotate
export function myStore(sql: Sql): TokenStore {
  return {
    // The compare-and-set: one statement on one row, found by its primary key, so exactly one
    // of N concurrent callers gets the row back. It changes no indexed column.
    async rotate(r: Rotation): Promise<SessionRecord | null> {
      const { rows } = await sql.query(
        `UPDATE tokens_sessions
            SET generation = $3, previous_hash = current_hash, current_hash = $4,
                sealed_successor = $5, rotated_at = $6, last_used_at = $6,
                idle_expires_at = LEAST($7, expires_at), purge_after = LEAST($8, expires_at)
          WHERE id = $1 AND current_hash = $2 AND revoked_at IS NULL
            AND expires_at > $6 AND idle_expires_at > $6
            AND ($9::text IS NULL OR client_id = $9)
            AND ($10::boolean IS FALSE OR binding_key IS NOT DISTINCT FROM $11)
            -- Unbound, or bound to the DPoP key the request proved ($12 NULL: none).
            AND (dpop_jkt IS NULL OR dpop_jkt = $12)
      RETURNING *`,
        [
          r.sessionId,
          r.expectedHash,
          r.generation,
          r.successorHash,
          r.sealedSuccessor,
          r.rotatedAt,
          r.idleExpiresAt,
          r.purgeAfter,
          r.clientId ?? null,
          r.bindingKey !== undefined,
          r.bindingKey ?? null,
          r.dpopJkt,
        ],
      );
      return rows[0] ? toSession(rows[0]) : null;
    },
    // #endregion

    async createSession(session: SessionRecord): Promise<void> {
      await sql.query(
        `INSERT INTO tokens_sessions VALUES (${placeholders(19)})`,
        sessionValues(session),
      );
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
        `UPDATE tokens_sessions
            SET revoked_at = $2, revoke_reason = $3, purge_after = LEAST(purge_after, $2)
          WHERE id = $1 AND revoked_at IS NULL`,
        [id, at, reason],
      );
      return rowCount === 1;
    },

    async revokeSubject(subject: string, at: Date, reason: string): Promise<number> {
      const { rowCount } = await sql.query(
        `UPDATE tokens_sessions
            SET revoked_at = $2, revoke_reason = $3, purge_after = LEAST(purge_after, $2)
          WHERE subject = $1 AND revoked_at IS NULL`,
        [subject, at, reason],
      );
      return rowCount ?? 0;
    },

    // Candidates by the purge_after index, then the exact end on those rows.
    async purge(before: Date, limit: number): Promise<number> {
      const { rowCount } = await sql.query(
        `DELETE FROM tokens_sessions WHERE id IN (
           SELECT id FROM tokens_sessions
            WHERE purge_after < $1
              AND (revoked_at < $1 OR idle_expires_at < $1 OR expires_at < $1)
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
