-- One row per session: a refresh token names its session and generation, so the table of refresh
-- tokens goes, and a refresh is one UPDATE of the session row by primary key that changes no
-- indexed column. The only indexes left are the primary key, `subject` and `purge_after`.

-- AlterTable
ALTER TABLE `tokens_sessions` ADD COLUMN `purge_after` DATETIME(3) NULL;

-- Sessions from before the upgrade: their clients hold refresh tokens of the old format, which
-- are refused (`invalid_grant`). They are revoked now, so they leave device lists at once, and
-- purge_after is backfilled as the session's earliest end. Instants are UTC; MySQL assigns left
-- to right, so `revoked_at` is set last.
UPDATE `tokens_sessions`
   SET `purge_after` = LEAST(`idle_expires_at`, `expires_at`, COALESCE(`revoked_at`, UTC_TIMESTAMP(3))),
       `revoke_reason` = IF(`revoked_at` IS NULL, 'token_format_upgrade', `revoke_reason`),
       `revoked_at` = COALESCE(`revoked_at`, UTC_TIMESTAMP(3));

-- AlterTable
ALTER TABLE `tokens_sessions` MODIFY `purge_after` DATETIME(3) NOT NULL,
    DROP INDEX `tokens_sessions_idle_expires_at_idx`,
    DROP INDEX `tokens_sessions_expires_at_idx`,
    DROP INDEX `tokens_sessions_revoked_at_idx`,
    ADD INDEX `tokens_sessions_purge_after_idx`(`purge_after`);

-- DropTable
DROP TABLE `tokens_refresh_tokens`;
