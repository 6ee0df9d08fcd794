CREATE TABLE `tokens_refresh_tokens` (
	`hash` varbinary(64) NOT NULL,
	`session_id` varbinary(255) NOT NULL,
	`generation` int NOT NULL,
	`created_at` datetime(3) NOT NULL,
	CONSTRAINT `tokens_refresh_tokens_hash` PRIMARY KEY(`hash`)
);
--> statement-breakpoint
CREATE TABLE `tokens_sessions` (
	`id` varbinary(255) NOT NULL,
	`subject` varbinary(255) NOT NULL,
	`client_id` varbinary(255) NOT NULL,
	`generation` int NOT NULL,
	`current_hash` varbinary(64) NOT NULL,
	`previous_hash` varbinary(64),
	`sealed_successor` text,
	`rotated_at` datetime(3),
	`created_at` datetime(3) NOT NULL,
	`last_used_at` datetime(3) NOT NULL,
	`idle_expires_at` datetime(3) NOT NULL,
	`expires_at` datetime(3) NOT NULL,
	`revoked_at` datetime(3),
	`revoke_reason` varchar(255),
	`client` text,
	`claims` text,
	CONSTRAINT `tokens_sessions_id` PRIMARY KEY(`id`),
	CONSTRAINT `tokens_sessions_current_hash_idx` UNIQUE(`current_hash`)
);
--> statement-breakpoint
ALTER TABLE `tokens_refresh_tokens` ADD CONSTRAINT `tokens_refresh_tokens_session_id_fk` FOREIGN KEY (`session_id`) REFERENCES `tokens_sessions`(`id`) ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX `tokens_refresh_tokens_session_id_idx` ON `tokens_refresh_tokens` (`session_id`);--> statement-breakpoint
CREATE INDEX `tokens_sessions_subject_idx` ON `tokens_sessions` (`subject`);--> statement-breakpoint
CREATE INDEX `tokens_sessions_idle_expires_at_idx` ON `tokens_sessions` (`idle_expires_at`);--> statement-breakpoint
CREATE INDEX `tokens_sessions_expires_at_idx` ON `tokens_sessions` (`expires_at`);--> statement-breakpoint
CREATE INDEX `tokens_sessions_revoked_at_idx` ON `tokens_sessions` (`revoked_at`);