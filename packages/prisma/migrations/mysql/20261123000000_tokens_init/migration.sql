-- CreateTable
CREATE TABLE `tokens_sessions` (
    `id` VARCHAR(191) NOT NULL,
    `subject` VARCHAR(191) NOT NULL,
    `client_id` VARCHAR(191) NOT NULL,
    `generation` INTEGER NOT NULL,
    `current_hash` VARCHAR(191) NOT NULL,
    `previous_hash` VARCHAR(191) NULL,
    `sealed_successor` VARCHAR(191) NULL,
    `rotated_at` DATETIME(3) NULL,
    `created_at` DATETIME(3) NOT NULL,
    `last_used_at` DATETIME(3) NOT NULL,
    `idle_expires_at` DATETIME(3) NOT NULL,
    `expires_at` DATETIME(3) NOT NULL,
    `revoked_at` DATETIME(3) NULL,
    `revoke_reason` VARCHAR(191) NULL,
    `client` JSON NULL,
    `claims` JSON NULL,

    INDEX `tokens_sessions_subject_idx`(`subject`),
    INDEX `tokens_sessions_idle_expires_at_idx`(`idle_expires_at`),
    INDEX `tokens_sessions_expires_at_idx`(`expires_at`),
    INDEX `tokens_sessions_revoked_at_idx`(`revoked_at`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

-- CreateTable
CREATE TABLE `tokens_refresh_tokens` (
    `hash` VARCHAR(191) NOT NULL,
    `session_id` VARCHAR(191) NOT NULL,
    `generation` INTEGER NOT NULL,
    `created_at` DATETIME(3) NOT NULL,

    INDEX `tokens_refresh_tokens_session_id_idx`(`session_id`),
    PRIMARY KEY (`hash`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

-- AddForeignKey
ALTER TABLE `tokens_refresh_tokens` ADD CONSTRAINT `tokens_refresh_tokens_session_id_fkey` FOREIGN KEY (`session_id`) REFERENCES `tokens_sessions`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;
