import type { AccessTokenClaims } from "@tokens/core";
import {
  type AuthenticateOptions,
  type IssueRequestOptions,
  sendWebResponse,
  type TokenHandlers,
  toWebRequest,
} from "@tokens/http";
import express, { type Request, type RequestHandler, type Response, type Router } from "express";

declare global {
  namespace Express {
    interface Request {
      /** Claims of the verified access token, set by `requireAuth`. */
      auth?: AccessTokenClaims;
    }
  }
}

/**
 * A body a parser mounted before the tokens router already read, encoded back into bytes the
 * handlers can read (they apply their own size cap and content-type rules). `undefined` when
 * no parser ran: Express 5 leaves `req.body` unset then, and the stream is still unread.
 */
function parsedBody(req: Request): BodyInit | undefined {
  const body: unknown = req.body;
  if (body === undefined) return undefined;
  if (typeof body === "string") return body;
  if (body instanceof Uint8Array) return new Uint8Array(body);
  if (req.is("application/x-www-form-urlencoded") && typeof body === "object" && body !== null) {
    const form = new URLSearchParams();
    for (const [name, value] of Object.entries(body)) {
      for (const item of Array.isArray(value) ? value : [value]) form.append(name, String(item));
    }
    return form.toString();
  }
  return JSON.stringify(body);
}

function toRequest(req: Request, withBody: boolean): globalThis.Request {
  const body = withBody ? parsedBody(req) : null;
  return toWebRequest(req, { url: req.originalUrl, ...(body === undefined ? {} : { body }) });
}

/**
 * An Express router serving the token endpoints (refresh, revoke, JWKS, metadata) at the paths
 * the handlers name. Mount it at the app root, before any body parser is best (a parsed body is
 * re-encoded, so either works): the metadata document must live under `/.well-known/`.
 * `req.ip` becomes the session's client IP, so set Express's `trust proxy` to match your proxy.
 *
 * @example
 * ```ts
 * import express from "express";
 * import { createHandlers } from "@tokens/http";
 * import { tokensRouter } from "@tokens/express";
 *
 * const handlers = createHandlers(tokens, { cookie: true });
 * const app = express();
 * app.use(tokensRouter(handlers));
 * ```
 */
export function tokensRouter(handlers: TokenHandlers): Router {
  const router = express.Router();
  for (const endpoint of handlers.endpoints) {
    router.all(endpoint.path, async (req, res) => {
      await sendWebResponse(res, await endpoint.handle(toRequest(req, true), { ip: req.ip }));
    });
  }
  return router;
}

/**
 * Middleware that verifies the bearer access token (RFC 6750) and sets `req.auth` to its claims,
 * or answers 401/400 (503 if a session check cannot reach the store).
 *
 * @example
 * ```ts
 * app.get("/api/me", requireAuth(handlers), (req, res) => {
 *   res.json({ user: req.auth?.sub });
 * });
 * app.delete("/api/account", requireAuth(handlers, { checkSession: true }), deleteAccount);
 * ```
 */
export function requireAuth(
  handlers: TokenHandlers,
  options?: AuthenticateOptions,
): RequestHandler {
  return async (req, res, next) => {
    // Only the headers are read: the body stays for the route's own parser.
    const result = await handlers.authenticate(toWebRequest(req, { body: null }), options);
    if (!result.ok) return sendWebResponse(res, result.response);
    req.auth = result.claims;
    next();
  };
}

/**
 * Answers your login route: starts a session for the user you authenticated and sends the token
 * response (the refresh token in an `HttpOnly` cookie when the client asks with
 * `Token-Transport: cookie`).
 *
 * @example
 * ```ts
 * app.post("/auth/login", express.json(), async (req, res) => {
 *   const user = await checkPassword(req.body.username, req.body.password);
 *   if (!user) return res.status(401).json({ error: "invalid_credentials" });
 *   await issueTokens(handlers, req, res, { subject: user.id });
 * });
 * ```
 */
export async function issueTokens(
  handlers: TokenHandlers,
  req: Request,
  res: Response,
  options: IssueRequestOptions,
): Promise<void> {
  await sendWebResponse(res, await handlers.issue(toRequest(req, false), options, { ip: req.ip }));
}
