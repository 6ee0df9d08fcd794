import { createContext } from "./internal/context.js";
import { issue } from "./issue.js";
import { listSessions } from "./list-sessions.js";
import { purge } from "./purge.js";
import { refresh } from "./refresh.js";
import { revoke, revokeSession, revokeSubject } from "./revoke.js";
import type { Tokens, TokensConfig } from "./types.js";
import { verifyAccessToken } from "./verify-access-token.js";

/**
 * Creates a tokens instance: issuance, rotation with reuse detection, revocation, sessions
 * listing and access-token verification over one store. Throws `ConfigurationError` for an
 * invalid configuration.
 *
 * @example
 * ```ts
 * import { createTokens, generateSigningKey } from "@tokens/core";
 * import { memoryStore } from "@tokens/memory";
 *
 * const tokens = createTokens({
 *   issuer: "https://auth.example.com",
 *   audience: "https://api.example.com",
 *   keys: [await generateSigningKey("EdDSA")],
 *   store: memoryStore(),
 * });
 *
 * // after your login check:
 * const pair = await tokens.issue({ subject: user.id, client: { userAgent } });
 * // later, at the refresh endpoint:
 * const next = await tokens.refresh(pair.refresh_token);
 * // in an API route:
 * const claims = await tokens.verifyAccessToken(next.access_token);
 * ```
 */
export function createTokens(config: TokensConfig): Tokens {
  const ctx = createContext(config);
  return {
    config: ctx.config,
    issue: (options) => issue(ctx, options),
    refresh: (token, options) => refresh(ctx, token, options),
    revoke: (token) => revoke(ctx, token),
    revokeSession: (sessionId, reason) => revokeSession(ctx, sessionId, reason),
    revokeSubject: (subject, reason) => revokeSubject(ctx, subject, reason),
    listSessions: (subject) => listSessions(ctx, subject),
    verifyAccessToken: (token, options) => verifyAccessToken(ctx, token, options),
    jwks: async () => ({ keys: ctx.keys.publicJwks.map((key) => ({ ...key })) }),
    purge: (options) => purge(ctx, options),
    dpopNonce: () => ctx.dpop.nonce(),
  };
}
