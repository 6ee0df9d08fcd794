import { InvalidRequestError, InvalidTokenError } from "./errors.js";
import type { Context } from "./internal/context.js";
import { checkDpopKey, presentedProof } from "./internal/dpop.js";
import { claimCheckFailed, verifyCompact } from "./internal/jws.js";
import { storeCall } from "./internal/store-call.js";
import type { AccessTokenClaims, VerifyOptions } from "./types.js";

const MAX_JWT_LENGTH = 16_384;

// Checked for presence in this order, the one jose's jwtVerify uses, so a token missing several
// is refused naming the same claim as there (test/jose-agreement.test.ts holds core to it).
const REQUIRED_CLAIMS = ["iss", "aud", "sid", "client_id", "jti", "iat", "exp", "sub"];

/**
 * Verifies an access token: signature under the key its `kid` names and only that key's
 * algorithm (so `none`, HS/RS confusion and foreign keys fail), `typ: at+jwt`, `iss`, `aud`,
 * `exp`/`nbf`/`iat` with the configured leeway. Header members that point at keys (`jku`,
 * `x5u`, `jwk`, `x5c`) are never followed. See `Tokens.verifyAccessToken`.
 *
 * A token bound to a DPoP key (`cnf.jkt`) is accepted only under the `DPoP` scheme with a valid
 * proof made with that key and carrying the token's hash (`ath`), RFC 9449 §7.
 */
export async function verifyAccessToken(
  ctx: Context,
  token: unknown,
  options: VerifyOptions = {},
): Promise<AccessTokenClaims> {
  if (typeof token !== "string" || token.length === 0 || token.length > MAX_JWT_LENGTH) {
    throw new InvalidTokenError("malformed", "access token must be a compact JWT string");
  }
  const audience = options?.audience;
  if (audience !== undefined && !ctx.config.audience.includes(audience)) {
    throw new InvalidRequestError("malformed", "audience is not one of the configured audiences");
  }
  const keys = ctx.keys.load();
  const verified = verifyCompact(keys instanceof Promise ? await keys : keys, token);
  // Not awaited when already settled: each await is a turn of the event loop.
  const payload = verified instanceof Promise ? await verified : verified;
  const claims = checkClaims(
    ctx,
    payload,
    audience === undefined ? ctx.config.audience : [audience],
  );
  if (claims.cnf !== undefined || options?.dpop !== undefined) {
    await checkDpop(ctx, token, claims, options?.dpop);
  }
  if (options?.checkSession) await checkSession(ctx, claims);
  return claims;
}

/** RFC 9449 §7: the scheme matches the token's binding, and a bound token comes with its proof. */
async function checkDpop(
  ctx: Context,
  token: string,
  claims: AccessTokenClaims,
  dpop: VerifyOptions["dpop"],
): Promise<void> {
  const scheme = dpop?.scheme;
  if (dpop !== undefined && scheme !== "Bearer" && scheme !== "DPoP") {
    throw new InvalidRequestError("malformed", 'dpop.scheme must be "Bearer" or "DPoP"');
  }
  const { cnf } = claims;
  if (cnf === undefined) {
    if (scheme === "DPoP") {
      throw new InvalidTokenError("invalid_claims", "the access token is not bound to a DPoP key");
    }
    return;
  }
  if (typeof cnf !== "object" || cnf === null || typeof cnf.jkt !== "string") {
    throw claimCheckFailed("cnf");
  }
  if (scheme !== "DPoP") {
    throw new InvalidTokenError("dpop_required", "the access token is bound to a DPoP key");
  }
  const request = presentedProof(dpop);
  const proven = request ? await ctx.dpop.verify(request, token) : null;
  checkDpopKey(cnf.jkt, proven, "the access token");
}

/** RFC 9068 §4 claim checks on a payload whose signature is valid. */
function checkClaims(
  ctx: Context,
  payload: Record<string, unknown>,
  audiences: string[],
): AccessTokenClaims {
  for (const claim of REQUIRED_CLAIMS) {
    if (!Object.hasOwn(payload, claim)) throw claimCheckFailed(claim);
  }
  const { iss, aud, iat, nbf, exp } = payload;
  if (iss !== ctx.config.issuer) throw claimCheckFailed("iss");
  // One of the accepted audiences must be the token's, or among them (RFC 7519 §4.1.3).
  const audienceMatches =
    typeof aud === "string"
      ? audiences.includes(aud)
      : Array.isArray(aud) && audiences.some((a) => aud.includes(a));
  if (!audienceMatches) throw claimCheckFailed("aud");
  const nowMs = ctx.now();
  const now = Math.floor(nowMs / 1000);
  const tolerance = ctx.config.clockTolerance;
  if (typeof iat !== "number") throw claimCheckFailed("iat");
  if (nbf !== undefined && (typeof nbf !== "number" || nbf > now + tolerance)) {
    throw claimCheckFailed("nbf");
  }
  if (typeof exp !== "number") throw claimCheckFailed("exp");
  if (exp <= now - tolerance) throw new InvalidTokenError("expired", "access token expired");
  const claims = payload as AccessTokenClaims;
  if (
    typeof claims.sub !== "string" ||
    typeof claims.sid !== "string" ||
    typeof claims.client_id !== "string"
  ) {
    throw new InvalidTokenError("invalid_claims", "access token claims have the wrong types");
  }
  // A token issued in the future was not issued by us.
  if (iat > nowMs / 1000 + tolerance) throw claimCheckFailed("iat");
  return claims;
}

/** The stateful check: the session must still be live (not revoked, not ended). */
async function checkSession(ctx: Context, claims: AccessTokenClaims): Promise<void> {
  const session = await storeCall("verifyAccessToken", ctx.store.getSession(claims.sid));
  const now = ctx.now();
  if (!session || session.subject !== claims.sub || session.revokedAt) {
    throw new InvalidTokenError("revoked", "the access token's session has been revoked");
  }
  if (now >= session.expiresAt.getTime())
    throw new InvalidTokenError("session_expired", "the session has ended");
  if (now >= session.idleExpiresAt.getTime())
    throw new InvalidTokenError("expired", "the session has expired");
}
