-- AlterTable
ALTER TABLE "tokens_sessions" ADD COLUMN "binding_key" TEXT;
