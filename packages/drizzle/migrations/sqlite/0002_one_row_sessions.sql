-- One row per session: the refresh-token table goes, and a refresh is one UPDATE of the session
-- row by primary key that changes no indexed column. Sessions of before the upgrade hold tokens of
-- the old format, which no longer refresh: they are revoked now, so they also leave device lists.
-- SQLite adds no NOT NULL column without a default, so the table is copied into its new shape.
DROP TABLE `tokens_refresh_tokens`;--> statement-breakpoint
UPDATE `tokens_sessions` SET `revoked_at` = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER), `revoke_reason` = 'token_format_upgrade' WHERE `revoked_at` IS NULL;--> statement-breakpoint
CREATE TABLE `__new_tokens_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`subject` text NOT NULL,
	`client_id` text NOT NULL,
	`generation` integer NOT NULL,
	`current_hash` text NOT NULL,
	`previous_hash` text,
	`sealed_successor` text,
	`rotated_at` integer,
	`created_at` integer NOT NULL,
	`last_used_at` integer NOT NULL,
	`idle_expires_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`purge_after` integer NOT NULL,
	`revoked_at` integer,
	`revoke_reason` text,
	`client` text,
	`binding_key` text,
	`claims` text
);
--> statement-breakpoint
INSERT INTO `__new_tokens_sessions` (`id`, `subject`, `client_id`, `generation`, `current_hash`, `previous_hash`, `sealed_successor`, `rotated_at`, `created_at`, `last_used_at`, `idle_expires_at`, `expires_at`, `purge_after`, `revoked_at`, `revoke_reason`, `client`, `binding_key`, `claims`) SELECT `id`, `subject`, `client_id`, `generation`, `current_hash`, `previous_hash`, `sealed_successor`, `rotated_at`, `created_at`, `last_used_at`, `idle_expires_at`, `expires_at`, min(`idle_expires_at`, `expires_at`, coalesce(`revoked_at`, `expires_at`)), `revoked_at`, `revoke_reason`, `client`, `binding_key`, `claims` FROM `tokens_sessions`;--> statement-breakpoint
DROP TABLE `tokens_sessions`;--> statement-breakpoint
ALTER TABLE `__new_tokens_sessions` RENAME TO `tokens_sessions`;--> statement-breakpoint
CREATE INDEX `tokens_sessions_subject_idx` ON `tokens_sessions` (`subject`);--> statement-breakpoint
CREATE INDEX `tokens_sessions_purge_after_idx` ON `tokens_sessions` (`purge_after`);
