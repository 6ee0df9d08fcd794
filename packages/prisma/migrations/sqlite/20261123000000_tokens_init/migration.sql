-- CreateTable
CREATE TABLE "tokens_sessions" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "subject" TEXT NOT NULL,
    "client_id" TEXT NOT NULL,
    "generation" INTEGER NOT NULL,
    "current_hash" TEXT NOT NULL,
    "previous_hash" TEXT,
    "sealed_successor" TEXT,
    "rotated_at" DATETIME,
    "created_at" DATETIME NOT NULL,
    "last_used_at" DATETIME NOT NULL,
    "idle_expires_at" DATETIME NOT NULL,
    "expires_at" DATETIME NOT NULL,
    "revoked_at" DATETIME,
    "revoke_reason" TEXT,
    "client" JSONB,
    "claims" JSONB
);

-- CreateTable
CREATE TABLE "tokens_refresh_tokens" (
    "hash" TEXT NOT NULL PRIMARY KEY,
    "session_id" TEXT NOT NULL,
    "generation" INTEGER NOT NULL,
    "created_at" DATETIME NOT NULL,
    CONSTRAINT "tokens_refresh_tokens_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "tokens_sessions" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "tokens_sessions_subject_idx" ON "tokens_sessions"("subject");

-- CreateIndex
CREATE INDEX "tokens_sessions_idle_expires_at_idx" ON "tokens_sessions"("idle_expires_at");

-- CreateIndex
CREATE INDEX "tokens_sessions_expires_at_idx" ON "tokens_sessions"("expires_at");

-- CreateIndex
CREATE INDEX "tokens_sessions_revoked_at_idx" ON "tokens_sessions"("revoked_at");

-- CreateIndex
CREATE INDEX "tokens_refresh_tokens_session_id_idx" ON "tokens_refresh_tokens"("session_id");
