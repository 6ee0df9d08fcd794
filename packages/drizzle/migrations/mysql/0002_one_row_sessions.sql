-- One row per session: the refresh-token table goes, and a refresh is one UPDATE of the session
-- row by primary key that changes no indexed column. Sessions of before the upgrade hold tokens of
-- the old format, which no longer refresh: they are revoked now, so they also leave device lists.
DROP TABLE `tokens_refresh_tokens`;--> statement-breakpoint
ALTER TABLE `tokens_sessions` DROP INDEX `tokens_sessions_current_hash_idx`;--> statement-breakpoint
DROP INDEX `tokens_sessions_idle_expires_at_idx` ON `tokens_sessions`;--> statement-breakpoint
DROP INDEX `tokens_sessions_expires_at_idx` ON `tokens_sessions`;--> statement-breakpoint
DROP INDEX `tokens_sessions_revoked_at_idx` ON `tokens_sessions`;--> statement-breakpoint
UPDATE `tokens_sessions` SET `revoked_at` = UTC_TIMESTAMP(3), `revoke_reason` = 'token_format_upgrade' WHERE `revoked_at` IS NULL;--> statement-breakpoint
ALTER TABLE `tokens_sessions` ADD `purge_after` datetime(3);--> statement-breakpoint
UPDATE `tokens_sessions` SET `purge_after` = LEAST(`idle_expires_at`, `expires_at`, COALESCE(`revoked_at`, `expires_at`));--> statement-breakpoint
ALTER TABLE `tokens_sessions` MODIFY `purge_after` datetime(3) NOT NULL;--> statement-breakpoint
CREATE INDEX `tokens_sessions_purge_after_idx` ON `tokens_sessions` (`purge_after`);
