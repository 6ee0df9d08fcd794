import { errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from "jose";
import { InvalidRequestError, InvalidTokenError, TokensError } from "./errors.js";
import type { Context } from "./internal/context.js";
import { storeCall } from "./internal/store-call.js";
import type { AccessTokenClaims, VerifyOptions } from "./types.js";

const MAX_JWT_LENGTH = 16_384;
const REQUIRED_CLAIMS = ["iss", "sub", "aud", "exp", "iat", "jti", "client_id", "sid"];

/**
 * Verifies an access token: signature under the key its `kid` names and only that key's
 * algorithm (so `none`, HS/RS confusion and foreign keys fail), `typ: at+jwt`, `iss`, `aud`,
 * `exp`/`nbf`/`iat` with the configured leeway. Header members that point at keys (`jku`,
 * `x5u`, `jwk`, `x5c`) are never followed. See `Tokens.verifyAccessToken`.
 */
export async function verifyAccessToken(
  ctx: Context,
  token: unknown,
  options: VerifyOptions = {},
): Promise<AccessTokenClaims> {
  if (typeof token !== "string" || token.length === 0 || token.length > MAX_JWT_LENGTH) {
    throw new InvalidTokenError("malformed", "access token must be a compact JWT string");
  }
  const audience = options?.audience ?? ctx.config.audience;
  if (options?.audience !== undefined && !ctx.config.audience.includes(options.audience)) {
    throw new InvalidRequestError("malformed", "audience is not one of the configured audiences");
  }
  const getKey: JWTVerifyGetKey = async (header) => {
    const key = typeof header.kid === "string" ? await ctx.keys.byKid(header.kid) : undefined;
    if (!key) throw new InvalidTokenError("unknown_key", "access token names an unknown key");
    if (header.alg !== key.alg) {
      throw new InvalidTokenError(
        "unsupported_algorithm",
        "access token algorithm does not match its key",
      );
    }
    return key.verifying;
  };
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, getKey, {
      algorithms: ctx.keys.algorithms,
      issuer: ctx.config.issuer,
      audience,
      typ: "at+jwt",
      clockTolerance: ctx.config.clockTolerance,
      currentDate: new Date(ctx.now()),
      requiredClaims: REQUIRED_CLAIMS,
    }));
  } catch (error) {
    throw toTokenError(error);
  }
  const claims = payload as AccessTokenClaims;
  if (
    typeof claims.sub !== "string" ||
    typeof claims.sid !== "string" ||
    typeof claims.client_id !== "string"
  ) {
    throw new InvalidTokenError("invalid_claims", "access token claims have the wrong types");
  }
  // jose checks iat's type only; a token issued in the future was not issued by us.
  if (claims.iat > ctx.now() / 1000 + ctx.config.clockTolerance) {
    throw new InvalidTokenError("invalid_claims", "access token claim check failed: iat");
  }
  if (options?.checkSession) await checkSession(ctx, claims);
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

function toTokenError(error: unknown): TokensError {
  if (error instanceof TokensError) return error;
  if (error instanceof errors.JWTExpired)
    return new InvalidTokenError("expired", "access token expired");
  if (error instanceof errors.JWTClaimValidationFailed) {
    return new InvalidTokenError(
      "invalid_claims",
      `access token claim check failed: ${error.claim}`,
    );
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new InvalidTokenError("invalid_signature", "access token signature is invalid");
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return new InvalidTokenError("unsupported_algorithm", "access token algorithm is not allowed");
  }
  return new InvalidTokenError("malformed", "access token is malformed");
}
