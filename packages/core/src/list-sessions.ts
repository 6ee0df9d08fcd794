import { sessionInfo } from "./internal/access-token.js";
import type { Context } from "./internal/context.js";
import { requireString } from "./internal/input.js";
import { storeCall } from "./internal/store-call.js";
import type { SessionInfo } from "./types.js";

/** A subject's live sessions, oldest first. See `Tokens.listSessions`. */
export async function listSessions(ctx: Context, subject: unknown): Promise<SessionInfo[]> {
  const sub = requireString("subject", subject);
  const now = ctx.now();
  const sessions = await storeCall("listSessions", ctx.store.listSessions(sub, new Date(now)));
  return sessions
    .filter(
      (s) =>
        s.subject === sub &&
        !s.revokedAt &&
        s.expiresAt.getTime() > now &&
        s.idleExpiresAt.getTime() > now,
    )
    .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
    .map(sessionInfo);
}
