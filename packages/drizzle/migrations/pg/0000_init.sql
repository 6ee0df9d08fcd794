CREATE TABLE "tokens_refresh_tokens" (
	"hash" text PRIMARY KEY NOT NULL,
	"session_id" text NOT NULL,
	"generation" integer NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tokens_sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"subject" text NOT NULL,
	"client_id" text NOT NULL,
	"generation" integer NOT NULL,
	"current_hash" text NOT NULL,
	"previous_hash" text,
	"sealed_successor" text,
	"rotated_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone NOT NULL,
	"last_used_at" timestamp (3) with time zone NOT NULL,
	"idle_expires_at" timestamp (3) with time zone NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	"revoked_at" timestamp (3) with time zone,
	"revoke_reason" text,
	"client" jsonb,
	"claims" jsonb
);
--> statement-breakpoint
ALTER TABLE "tokens_refresh_tokens" ADD CONSTRAINT "tokens_refresh_tokens_session_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."tokens_sessions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "tokens_refresh_tokens_session_id_idx" ON "tokens_refresh_tokens" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "tokens_sessions_subject_idx" ON "tokens_sessions" USING btree ("subject");--> statement-breakpoint
CREATE UNIQUE INDEX "tokens_sessions_current_hash_idx" ON "tokens_sessions" USING btree ("current_hash");--> statement-breakpoint
CREATE INDEX "tokens_sessions_idle_expires_at_idx" ON "tokens_sessions" USING btree ("idle_expires_at");--> statement-breakpoint
CREATE INDEX "tokens_sessions_expires_at_idx" ON "tokens_sessions" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "tokens_sessions_revoked_at_idx" ON "tokens_sessions" USING btree ("revoked_at");