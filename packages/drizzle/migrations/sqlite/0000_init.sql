CREATE TABLE `tokens_refresh_tokens` (
	`hash` text PRIMARY KEY NOT NULL,
	`session_id` text NOT NULL,
	`generation` integer NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`session_id`) REFERENCES `tokens_sessions`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `tokens_refresh_tokens_session_id_idx` ON `tokens_refresh_tokens` (`session_id`);--> statement-breakpoint
CREATE TABLE `tokens_sessions` (
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
	`revoked_at` integer,
	`revoke_reason` text,
	`client` text,
	`claims` text
);
--> statement-breakpoint
CREATE INDEX `tokens_sessions_subject_idx` ON `tokens_sessions` (`subject`);--> statement-breakpoint
CREATE UNIQUE INDEX `tokens_sessions_current_hash_idx` ON `tokens_sessions` (`current_hash`);--> statement-breakpoint
CREATE INDEX `tokens_sessions_idle_expires_at_idx` ON `tokens_sessions` (`idle_expires_at`);--> statement-breakpoint
CREATE INDEX `tokens_sessions_expires_at_idx` ON `tokens_sessions` (`expires_at`);--> statement-breakpoint
CREATE INDEX `tokens_sessions_revoked_at_idx` ON `tokens_sessions` (`revoked_at`);