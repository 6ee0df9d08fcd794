-- One row per session: the refresh-token table goes, and a refresh is one UPDATE of the session
-- row by primary key that changes no indexed column. Sessions of before the upgrade hold tokens of
-- the old format, which no longer refresh: they are revoked now, so they also leave device lists.
DROP TABLE "tokens_refresh_tokens" CASCADE;--> statement-breakpoint
DROP INDEX "tokens_sessions_current_hash_idx";--> statement-breakpoint
DROP INDEX "tokens_sessions_idle_expires_at_idx";--> statement-breakpoint
DROP INDEX "tokens_sessions_expires_at_idx";--> statement-breakpoint
DROP INDEX "tokens_sessions_revoked_at_idx";--> statement-breakpoint
UPDATE "tokens_sessions" SET "revoked_at" = now(), "revoke_reason" = 'token_format_upgrade' WHERE "revoked_at" IS NULL;--> statement-breakpoint
ALTER TABLE "tokens_sessions" ADD COLUMN "purge_after" timestamp (3) with time zone;--> statement-breakpoint
UPDATE "tokens_sessions" SET "purge_after" = LEAST("idle_expires_at", "expires_at", "revoked_at");--> statement-breakpoint
ALTER TABLE "tokens_sessions" ALTER COLUMN "purge_after" SET NOT NULL;--> statement-breakpoint
CREATE INDEX "tokens_sessions_purge_after_idx" ON "tokens_sessions" USING btree ("purge_after");--> statement-breakpoint
-- Room on each page for the next version of its rows: a refresh is then a heap-only update.
ALTER TABLE "tokens_sessions" SET (fillfactor = 80);
