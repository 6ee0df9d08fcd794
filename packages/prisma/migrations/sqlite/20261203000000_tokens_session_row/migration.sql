-- One row per session: a refresh token names its session and generation, so the table of refresh
-- tokens goes, and a refresh is one UPDATE of the session row by primary key that changes no
-- indexed column. The only indexes left are the primary key, `subject` and `purge_after`.

-- DropTable
DROP TABLE "tokens_refresh_tokens";

-- RedefineTables (a NOT NULL column without a default cannot be added in place)
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_tokens_sessions" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "subject" TEXT NOT NULL,
    "client_id" TEXT NOT NULL,
    "generation" INTEGER NOT NULL,
    "current_hash" TEXT NOT NULL,
    "previous_hash" TEXT,
    "sealed_successor" TEXT,
    "rotated_at" DATETIME,
    "created_at" DATETIME NOT NULL,
    "last_used_at" DATETIME NOT NULL,
    "idle_expires_at" DATETIME NOT NULL,
    "expires_at" DATETIME NOT NULL,
    "purge_after" DATETIME NOT NULL,
    "revoked_at" DATETIME,
    "revoke_reason" TEXT,
    "client" JSONB,
    "binding_key" TEXT,
    "claims" JSONB
);
-- Sessions from before the upgrade: their clients hold refresh tokens of the old format, which
-- are refused (`invalid_grant`). They are revoked now, so they leave device lists at once, and
-- purge_after is backfilled as the session's earliest end. "Now" is written the way the row's
-- instants are (Prisma's ISO 8601 text, or epoch milliseconds with `timestampFormat`).
INSERT INTO "new_tokens_sessions" (
    "id", "subject", "client_id", "generation", "current_hash", "previous_hash", "sealed_successor",
    "rotated_at", "created_at", "last_used_at", "idle_expires_at", "expires_at", "purge_after",
    "revoked_at", "revoke_reason", "client", "binding_key", "claims"
)
SELECT "id", "subject", "client_id", "generation", "current_hash", "previous_hash", "sealed_successor",
       "rotated_at", "created_at", "last_used_at", "idle_expires_at", "expires_at",
       MIN("idle_expires_at", "expires_at", COALESCE("revoked_at", "now")),
       COALESCE("revoked_at", "now"),
       CASE WHEN "revoked_at" IS NULL THEN 'token_format_upgrade' ELSE "revoke_reason" END,
       "client", "binding_key", "claims"
  FROM (
    SELECT *,
           CASE WHEN typeof("created_at") = 'integer'
                THEN CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
                ELSE strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')
           END AS "now"
      FROM "tokens_sessions"
  );
DROP TABLE "tokens_sessions";
ALTER TABLE "new_tokens_sessions" RENAME TO "tokens_sessions";
CREATE INDEX "tokens_sessions_subject_idx" ON "tokens_sessions"("subject");
CREATE INDEX "tokens_sessions_purge_after_idx" ON "tokens_sessions"("purge_after");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
