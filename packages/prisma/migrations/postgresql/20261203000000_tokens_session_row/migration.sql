-- One row per session: a refresh token names its session and generation, so the table of refresh
-- tokens goes, and a refresh is one UPDATE of the session row by primary key that changes no
-- indexed column. The only indexes left are the primary key, `subject` and `purge_after`.

-- Room on every page for the updated row version: rotations become HOT updates (no index
-- writes). Applies to pages written from now on.
ALTER TABLE "tokens_sessions" SET (fillfactor = 80);

-- AlterTable
ALTER TABLE "tokens_sessions" ADD COLUMN "purge_after" TIMESTAMPTZ(3);

-- Sessions from before the upgrade: their clients hold refresh tokens of the old format, which
-- are refused (`invalid_grant`). They are revoked now, so they leave device lists at once, and
-- purge_after is backfilled as the session's earliest end.
UPDATE "tokens_sessions"
   SET "revoked_at" = COALESCE("revoked_at", now()),
       "revoke_reason" = CASE WHEN "revoked_at" IS NULL THEN 'token_format_upgrade' ELSE "revoke_reason" END,
       "purge_after" = LEAST("idle_expires_at", "expires_at", COALESCE("revoked_at", now()));

ALTER TABLE "tokens_sessions" ALTER COLUMN "purge_after" SET NOT NULL;

-- DropTable
DROP TABLE "tokens_refresh_tokens";

-- DropIndex
DROP INDEX "tokens_sessions_idle_expires_at_idx";

-- DropIndex
DROP INDEX "tokens_sessions_expires_at_idx";

-- DropIndex
DROP INDEX "tokens_sessions_revoked_at_idx";

-- CreateIndex
CREATE INDEX "tokens_sessions_purge_after_idx" ON "tokens_sessions"("purge_after");
