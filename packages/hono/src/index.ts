import type { AccessTokenClaims } from "@tokens/core";
import type { AuthenticateOptions, TokenHandlers } from "@tokens/http";
import { type Context, Hono, type MiddlewareHandler } from "hono";

/**
 * Options of {@link tokensApp}.
 *
 * @example
 * ```ts
 * import { getConnInfo } from "@hono/node-server/conninfo";
 *
 * const options: TokensAppOptions = { clientIp: (c) => getConnInfo(c).remote.address };
 * ```
 */
export interface TokensAppOptions {
  /**
   * The client's IP for session binding and the devices list. Hono runs on many runtimes, each
   * with its own connection info helper (`@hono/node-server/conninfo`, `hono/bun`,
   * `hono/deno`...), so none is assumed. Default: none.
   */
  clientIp?: (c: Context) => string | undefined;
}

/**
 * The variables {@link requireAuth} sets: `c.get("auth")` is the verified claims.
 *
 * @example
 * ```ts
 * const api = new Hono<AuthEnv>();
 * api.get("/me", requireAuth(handlers), (c) => c.json({ user: c.get("auth").sub }));
 * ```
 */
export type AuthEnv = { Variables: { auth: AccessTokenClaims } };

/**
 * A Hono sub-app serving the token endpoints (refresh, revoke, JWKS, metadata) at the paths
 * the handlers name. Mount it at the root with `app.route("/", …)`: the metadata document must
 * live under `/.well-known/`. The web `Request` goes to the handlers untouched, so they apply
 * their own body cap and content-type rules on every runtime Hono runs on.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { createHandlers } from "@tokens/http";
 * import { tokensApp } from "@tokens/hono";
 *
 * const handlers = createHandlers(tokens, { cookie: true });
 * const app = new Hono().route("/", tokensApp(handlers));
 * ```
 */
export function tokensApp(handlers: TokenHandlers, options: TokensAppOptions = {}): Hono {
  const app = new Hono();
  for (const endpoint of handlers.endpoints) {
    // Every method: the handler answers the wrong ones with 405 and `Allow`, not a 404.
    app.all(endpoint.path, (c) => endpoint.handle(c.req.raw, { ip: options.clientIp?.(c) }));
  }
  return app;
}

/**
 * Middleware that verifies the bearer access token (RFC 6750) and sets `c.get("auth")` to its
 * claims, or answers 401/400 (503 if a session check cannot reach the store).
 *
 * @example
 * ```ts
 * app.get("/api/me", requireAuth(handlers), (c) => c.json({ user: c.get("auth").sub }));
 * app.delete("/api/account", requireAuth(handlers, { checkSession: true }), deleteAccount);
 * ```
 */
export function requireAuth(
  handlers: TokenHandlers,
  options?: AuthenticateOptions,
): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const result = await handlers.authenticate(c.req.raw, options);
    if (!result.ok) return result.response;
    c.set("auth", result.claims);
    await next();
  };
}
