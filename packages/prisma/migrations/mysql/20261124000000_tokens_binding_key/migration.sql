-- AlterTable
ALTER TABLE `tokens_sessions` ADD COLUMN `binding_key` VARCHAR(191) NULL;
