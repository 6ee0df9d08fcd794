import type { Context } from "./internal/context.js";
import { requireString } from "./internal/input.js";
import { hasValidTag, parseToken } from "./internal/refresh-token.js";
import { storeCall } from "./internal/store-call.js";

/**
 * RFC 7009 revocation of the session a refresh token belongs to: any token core issued for it,
 * live or spent (its tag proves that). Unknown, malformed, forged or non-string tokens are not
 * errors (the spec's "invalid tokens do not cause an error").
 */
export async function revoke(ctx: Context, presented: unknown): Promise<void> {
  if (typeof presented !== "string" || presented.length > 4096) return;
  const token = parseToken(presented);
  if (token && hasValidTag(token, ctx.keys.tagKeys)) await revokeSession(ctx, token.sessionId);
}

/** Revokes one session by id. See `Tokens.revokeSession`. */
export async function revokeSession(
  ctx: Context,
  sessionId: unknown,
  reason: unknown = "logout",
): Promise<boolean> {
  const id = requireString("sessionId", sessionId);
  const why = requireString("reason", reason, 64);
  const at = new Date(ctx.now());
  const revoked = await storeCall("revokeSession", ctx.store.revokeSession(id, at, why));
  // The event names the subject, which costs a read: only pay it when someone listens.
  if (revoked && ctx.observed) {
    const session = await storeCall("revokeSession", ctx.store.getSession(id));
    ctx.emit({
      type: "session_revoked",
      at,
      sessionId: id,
      subject: session?.subject ?? "",
      reason: why,
    });
  }
  return revoked;
}

/** Revokes every session of a subject. See `Tokens.revokeSubject`. */
export async function revokeSubject(
  ctx: Context,
  subject: unknown,
  reason: unknown = "subject_revoked",
): Promise<number> {
  const sub = requireString("subject", subject);
  const why = requireString("reason", reason, 64);
  const at = new Date(ctx.now());
  const count = await storeCall("revokeSubject", ctx.store.revokeSubject(sub, at, why));
  ctx.emit({ type: "subject_revoked", at, subject: sub, reason: why, count });
  return count;
}
