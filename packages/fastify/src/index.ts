import type { AccessTokenClaims } from "@tokens/core";
import {
  type AuthenticateOptions,
  type IssueRequestOptions,
  type NodeStreamLike,
  readWebResponse,
  type TokenHandlers,
  toWebRequest,
} from "@tokens/http";
import type {
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  onRequestAsyncHookHandler,
} from "fastify";

declare module "fastify" {
  interface FastifyRequest {
    /** Claims of the verified access token, set by `requireAuth`. */
    auth?: AccessTokenClaims;
  }
}

/**
 * Options of {@link tokensPlugin}.
 *
 * @example
 * ```ts
 * await app.register(tokensPlugin, { handlers } satisfies TokensPluginOptions);
 * ```
 */
export interface TokensPluginOptions {
  /** The handlers from `createHandlers`. */
  handlers: TokenHandlers;
}

/**
 * Sends a web Response through Fastify's own reply (status, headers, whole body), so the app's
 * onSend hooks and logging see it, rather than handing Fastify the Response object, which it
 * cannot send for HEAD requests.
 */
async function sendResponse(reply: FastifyReply, response: Response): Promise<FastifyReply> {
  const { status, headers, body } = await readWebResponse(response);
  return reply
    .code(status)
    .headers(headers)
    .send(body ?? "");
}

function toRequest(request: FastifyRequest, withBody: boolean): Request {
  // The plugin's catch-all parser leaves the (possibly hook-transformed) payload stream unread.
  const stream = request.body as NodeStreamLike | undefined;
  return toWebRequest(request.raw, {
    url: request.url,
    ...(withBody ? (stream === undefined ? {} : { stream }) : { body: null }),
  });
}

/**
 * A Fastify plugin serving the token endpoints (refresh, revoke, JWKS, metadata) at the paths
 * the handlers name. Register it without a `prefix`: the metadata document must live under
 * `/.well-known/`. It is encapsulated: inside it every body reaches the handlers unparsed (they
 * apply their own size cap and content-type rules), and your app's parsers are untouched.
 * `request.ip` becomes the session's client IP, so set `trustProxy` to match your proxy.
 *
 * @example
 * ```ts
 * import Fastify from "fastify";
 * import { createHandlers } from "@tokens/http";
 * import { tokensPlugin } from "@tokens/fastify";
 *
 * const app = Fastify();
 * await app.register(tokensPlugin, { handlers: createHandlers(tokens, { cookie: true }) });
 * ```
 */
export const tokensPlugin: FastifyPluginAsync<TokensPluginOptions> = async (
  fastify,
  { handlers },
) => {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser("*", (_request, payload, done) => done(null, payload));
  // Fastify rejects some requests itself before a handler runs (an unparsable Content-Type, say);
  // answer those in the RFC 6749 §5.2 shape every other token-endpoint error has.
  fastify.setErrorHandler((error: { statusCode?: number; message: string }, _request, reply) => {
    const status = error.statusCode ?? 500;
    if (status < 400 || status >= 500) throw error;
    return reply
      .code(status)
      .header("cache-control", "no-store")
      .send({ error: "invalid_request", error_description: "The request could not be read" });
  });
  for (const endpoint of handlers.endpoints) {
    // Every method: the handler answers the wrong ones with 405 and `Allow`, not a 404.
    fastify.all(endpoint.path, async (request, reply) =>
      sendResponse(reply, await endpoint.handle(toRequest(request, true), { ip: request.ip })),
    );
  }
};

/**
 * An `onRequest` hook that verifies the bearer access token (RFC 6750) and sets `request.auth`
 * to its claims, or answers 401/400 (503 if a session check cannot reach the store). As an
 * `onRequest` hook it runs before Fastify reads the body, so a request without valid
 * credentials is refused in the RFC 6750 shape whatever it sends, before any parser can answer.
 *
 * @example
 * ```ts
 * app.get("/api/me", { onRequest: requireAuth(handlers) }, async (request) => ({
 *   user: request.auth?.sub,
 * }));
 * ```
 */
export function requireAuth(
  handlers: TokenHandlers,
  options?: AuthenticateOptions,
): onRequestAsyncHookHandler {
  return async (request, reply) => {
    // Only the headers are read: the body is not the hook's to touch.
    const result = await handlers.authenticate(toWebRequest(request.raw, { body: null }), options);
    if (!result.ok) return sendResponse(reply, result.response);
    request.auth = result.claims;
  };
}

/**
 * Answers your login route: starts a session for the user you authenticated and sends the token
 * response (the refresh token in an `HttpOnly` cookie when the client asks with
 * `Token-Transport: cookie`).
 *
 * @example
 * ```ts
 * app.post("/auth/login", async (request, reply) => {
 *   const user = await checkPassword(request.body);
 *   if (!user) return reply.code(401).send({ error: "invalid_credentials" });
 *   return issueTokens(handlers, request, reply, { subject: user.id });
 * });
 * ```
 */
export async function issueTokens(
  handlers: TokenHandlers,
  request: FastifyRequest,
  reply: FastifyReply,
  options: IssueRequestOptions,
): Promise<FastifyReply> {
  return sendResponse(
    reply,
    await handlers.issue(toRequest(request, false), options, { ip: request.ip }),
  );
}
