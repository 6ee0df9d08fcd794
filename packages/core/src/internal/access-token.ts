import type { SessionRecord } from "../store.js";
import type { SessionInfo, TokenResponse } from "../types.js";
import { randomId } from "./bytes.js";
import type { Context } from "./context.js";
import { signCompact } from "./jws.js";

/** Claims tokens sets itself; app claims may not name them. */
export const RESERVED_CLAIMS = new Set([
  "iss",
  "sub",
  "aud",
  "exp",
  "nbf",
  "iat",
  "jti",
  "client_id",
  "sid",
  "auth_time",
  "scope",
  "cnf",
]);

/**
 * Signs an RFC 9068 access token for the session: `typ: at+jwt`, `kid`, the pinned alg; bound
 * to the DPoP key `jkt` (RFC 9449 §6.1 `cnf.jkt`) when one is given.
 */
export async function signAccessToken(
  ctx: Context,
  session: SessionRecord,
  nowMs: number,
  jkt: string | null = null,
): Promise<string> {
  const keys = ctx.keys.load();
  const { active } = keys instanceof Promise ? await keys : keys;
  const iat = Math.floor(nowMs / 1000);
  const { audience } = ctx.config;
  const registered = {
    client_id: session.clientId,
    sid: session.id,
    iss: ctx.config.issuer,
    sub: session.subject,
    aud: audience.length === 1 ? audience[0] : audience,
    iat,
    exp: iat + ctx.config.accessTokenTtl,
    jti: randomId(),
  };
  // Only bound tokens get the extra member: the common token keeps its one object shape.
  const claims = jkt === null ? registered : { ...registered, cnf: { jkt } };
  if (!session.claims) return signCompact(active, claims);
  // App claims first, as a spread into the literal would put them, but copied by Object.assign:
  // V8 builds and encodes that object about four times faster. The null prototype keeps an own
  // `__proto__` claim a claim, as the spread did.
  return signCompact(active, Object.assign(Object.create(null), session.claims, claims));
}

/** The public view of a session record. */
export function sessionInfo(session: SessionRecord): SessionInfo {
  return {
    id: session.id,
    subject: session.subject,
    clientId: session.clientId,
    createdAt: session.createdAt,
    lastUsedAt: session.lastUsedAt,
    idleExpiresAt: session.idleExpiresAt,
    expiresAt: session.expiresAt,
    client: session.client,
  };
}

/**
 * The RFC 6749 §5.1 response for a session whose live refresh token is `refreshToken`, its
 * access token bound to the DPoP key `jkt` when one is given (`token_type: "DPoP"`).
 */
export async function tokenResponse(
  ctx: Context,
  session: SessionRecord,
  refreshToken: string,
  nowMs: number,
  jkt: string | null = null,
): Promise<TokenResponse> {
  return {
    access_token: await signAccessToken(ctx, session, nowMs, jkt),
    token_type: jkt === null ? "Bearer" : "DPoP",
    expires_in: ctx.config.accessTokenTtl,
    refresh_token: refreshToken,
    session: sessionInfo(session),
  };
}
