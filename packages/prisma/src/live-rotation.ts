import type { ClientContext, LiveRotation, SessionRecord } from "@tokens/core";
import type { PrismaTokensClient } from "./client.js";

/** The providers whose SQL `rotateLive` speaks. */
export type LiveDialect = "postgresql" | "mysql" | "sqlite";

/** A sessions row as raw SQL returns it: snake_case, values as the driver adapter decodes them. */
export interface SessionSqlRow {
  id: string;
  subject: string;
  client_id: string;
  generation: number | bigint;
  current_hash: string;
  previous_hash: string | null;
  sealed_successor: string | null;
  rotated_at: Date | string | null;
  created_at: Date | string;
  last_used_at: Date | string;
  idle_expires_at: Date | string;
  expires_at: Date | string;
  revoked_at: Date | string | null;
  revoke_reason: string | null;
  client: unknown;
  binding_key: string | null;
  claims: unknown;
}

// Adapters decode raw results by the column types they see; these accept either form, so a
// record read through raw SQL equals one read through the models.
const instant = (value: Date | string): Date => (value instanceof Date ? value : new Date(value));
const optionalInstant = (value: Date | string | null): Date | null =>
  value === null ? null : instant(value);
const json = <T>(value: unknown): T | null =>
  value === null || value === undefined
    ? null
    : ((typeof value === "string" ? JSON.parse(value) : value) as T);

/** A raw sessions row as a {@link SessionRecord}. */
export function fromSessionSqlRow(row: SessionSqlRow): SessionRecord {
  return {
    id: row.id,
    subject: row.subject,
    clientId: row.client_id,
    generation: Number(row.generation),
    currentHash: row.current_hash,
    previousHash: row.previous_hash,
    sealedSuccessor: row.sealed_successor,
    rotatedAt: optionalInstant(row.rotated_at),
    createdAt: instant(row.created_at),
    lastUsedAt: instant(row.last_used_at),
    idleExpiresAt: instant(row.idle_expires_at),
    expiresAt: instant(row.expires_at),
    revokedAt: optionalInstant(row.revoked_at),
    revokeReason: row.revoke_reason,
    client: json<ClientContext>(row.client),
    bindingKey: row.binding_key ?? null,
    claims: json<Record<string, unknown>>(row.claims),
  };
}

/** MySQL: the conditions of a live rotation (parameters: see `rotateLiveSql`). */
const MYSQL_LIVE = `
 WHERE id = (SELECT session_id FROM tokens_refresh_tokens WHERE hash = ?)
   AND current_hash = ?
   AND revoked_at IS NULL
   AND expires_at > ?
   AND idle_expires_at > ?
   AND (? IS NULL OR client_id = ?)
   AND binding_key <=> ?`;

/**
 * MySQL: the compare-and-set. `previous_hash` is set from the parameter: MySQL evaluates
 * assignments left to right, so `current_hash` may already be the new one.
 */
const MYSQL_ROTATE = `
UPDATE tokens_sessions
   SET generation = generation + 1,
       previous_hash = ?,
       current_hash = ?,
       sealed_successor = ?,
       rotated_at = ?,
       last_used_at = ?,
       idle_expires_at = LEAST(?, expires_at)
${MYSQL_LIVE}`;

/**
 * `rotateLive` in raw SQL, per provider. The session is found through the token table's primary
 * key (`id = (SELECT session_id …)`), so each statement is index lookups only, and the WHERE
 * holds every check of the contract: a refused rotation matches no row and writes nothing.
 * Resolves the rotated row, or `undefined`.
 */
export async function rotateLiveSql(
  prisma: PrismaTokensClient,
  dialect: LiveDialect,
  rotation: LiveRotation,
): Promise<SessionSqlRow | undefined> {
  const { expectedHash: expected, successorHash: successor, rotatedAt: at } = rotation;
  const clientId = rotation.clientId ?? null;
  const key = rotation.bindingKey;
  switch (dialect) {
    case "postgresql": {
      // One statement, as `rotate`: a concurrent caller blocks on the row lock, re-checks the
      // WHERE against the winner's row and matches nothing, so its INSERT inserts nothing.
      const rows = (await prisma.$queryRaw`
        WITH rotated AS (
          UPDATE tokens_sessions
             SET generation = generation + 1,
                 previous_hash = current_hash,
                 current_hash = ${successor},
                 sealed_successor = ${rotation.sealedSuccessor},
                 rotated_at = ${at}::timestamptz,
                 last_used_at = ${at}::timestamptz,
                 idle_expires_at = LEAST(${rotation.idleExpiresAt}::timestamptz, expires_at)
           WHERE id = (SELECT session_id FROM tokens_refresh_tokens WHERE hash = ${expected})
             AND current_hash = ${expected}
             AND revoked_at IS NULL
             AND expires_at > ${at}::timestamptz
             AND idle_expires_at > ${at}::timestamptz
             AND (${clientId}::text IS NULL OR client_id = ${clientId}::text)
             AND binding_key IS NOT DISTINCT FROM ${key}::text
          RETURNING *
        ), successor AS (
          INSERT INTO tokens_refresh_tokens (hash, session_id, generation, created_at)
          SELECT ${successor}, id, generation, ${at}::timestamptz FROM rotated
        )
        SELECT * FROM rotated`) as SessionSqlRow[];
      return rows[0];
    }
    case "sqlite": {
      // A batch transaction: SQLite has one writer, so the two statements run back to back
      // without yielding the lock. The INSERT finds the session by the successor it now names,
      // so it inserts only when the UPDATE rotated.
      const [rows] = (await prisma.$transaction([
        prisma.$queryRaw`
          UPDATE tokens_sessions
             SET generation = generation + 1,
                 previous_hash = current_hash,
                 current_hash = ${successor},
                 sealed_successor = ${rotation.sealedSuccessor},
                 rotated_at = ${at},
                 last_used_at = ${at},
                 idle_expires_at = MIN(${rotation.idleExpiresAt}, expires_at)
           WHERE id = (SELECT session_id FROM tokens_refresh_tokens WHERE hash = ${expected})
             AND current_hash = ${expected}
             AND revoked_at IS NULL
             AND expires_at > ${at}
             AND idle_expires_at > ${at}
             AND (${clientId} IS NULL OR client_id = ${clientId})
             AND binding_key IS ${key}
          RETURNING *`,
        prisma.$executeRaw`
          INSERT INTO tokens_refresh_tokens (hash, session_id, generation, created_at)
          SELECT ${successor}, id, generation, ${at} FROM tokens_sessions
           WHERE id = (SELECT session_id FROM tokens_refresh_tokens WHERE hash = ${expected})
             AND current_hash = ${successor}`,
      ])) as [SessionSqlRow[], number];
      return rows[0];
    }
    case "mysql": {
      // No UPDATE … RETURNING, and a transaction through Prisma costs more round trips than the
      // rotation itself: three statements that are each atomic instead. Read the session under
      // the rotation's conditions (a refusal costs just this), insert the successor's token row,
      // then the compare-and-set UPDATE under the same conditions; of concurrent callers exactly
      // one UPDATE matches (the row lock orders them, the others find `current_hash` changed).
      // A loser's successor row is named by no session — allowed, as for `rotate` — and purge
      // deletes it with the session.
      const live = [expected, expected, at, at, clientId, clientId, key];
      const rows = (await prisma.$queryRawUnsafe(
        `SELECT * FROM tokens_sessions ${MYSQL_LIVE}`,
        ...live,
      )) as SessionSqlRow[];
      const found = rows[0];
      if (!found) return undefined;
      const generation = Number(found.generation) + 1;
      await prisma.$executeRaw`
        INSERT INTO tokens_refresh_tokens (hash, session_id, generation, created_at)
        VALUES (${successor}, ${found.id}, ${generation}, ${at})`;
      const updated = await prisma.$executeRawUnsafe(
        MYSQL_ROTATE,
        expected,
        successor,
        rotation.sealedSuccessor,
        at,
        at,
        rotation.idleExpiresAt,
        ...live,
      );
      if (updated !== 1) return undefined;
      // The row as the UPDATE left it: nothing else of a session that may rotate ever changes.
      const expiresAt = fromSessionSqlRow(found).expiresAt;
      return {
        ...found,
        generation,
        previous_hash: expected,
        current_hash: successor,
        sealed_successor: rotation.sealedSuccessor,
        rotated_at: at,
        last_used_at: at,
        idle_expires_at: new Date(Math.min(rotation.idleExpiresAt.getTime(), expiresAt.getTime())),
      };
    }
  }
}
