-- CreateTable
CREATE TABLE "tokens_sessions" (
    "id" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "client_id" TEXT NOT NULL,
    "generation" INTEGER NOT NULL,
    "current_hash" TEXT NOT NULL,
    "previous_hash" TEXT,
    "sealed_successor" TEXT,
    "rotated_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "last_used_at" TIMESTAMPTZ(3) NOT NULL,
    "idle_expires_at" TIMESTAMPTZ(3) NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "revoked_at" TIMESTAMPTZ(3),
    "revoke_reason" TEXT,
    "client" JSONB,
    "claims" JSONB,

    CONSTRAINT "tokens_sessions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "tokens_refresh_tokens" (
    "hash" TEXT NOT NULL,
    "session_id" TEXT NOT NULL,
    "generation" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "tokens_refresh_tokens_pkey" PRIMARY KEY ("hash")
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

-- AddForeignKey
ALTER TABLE "tokens_refresh_tokens" ADD CONSTRAINT "tokens_refresh_tokens_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "tokens_sessions"("id") ON DELETE CASCADE ON UPDATE CASCADE;
