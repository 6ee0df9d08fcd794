import type { AccessTokenClaims } from "@tokens/core";
import {
  type AuthenticateOptions,
  type Endpoint,
  type IssueRequestOptions,
  type NodeStreamLike,
  readWebResponse,
  type TokenHandlers,
  toWebRequest,
} from "@tokens/http";
import type {
  FastifyInstance,
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

type RoutingOption =
  | "caseSensitive"
  | "ignoreTrailingSlash"
  | "ignoreDuplicateSlashes"
  | "useSemicolonDelimiter";
type Routing = Record<RoutingOption, boolean>;

/**
 * The router options that decide which request paths reach a route, as Fastify resolved them:
 * `routerOptions` wins over the older top-level options, and the defaults are Fastify's.
 */
function routing(fastify: FastifyInstance): Routing {
  const config = fastify.initialConfig as Partial<Routing> & { routerOptions?: Partial<Routing> };
  const option = (name: RoutingOption, fallback: boolean) =>
    config.routerOptions?.[name] ?? config[name] ?? fallback;
  return {
    caseSensitive: option("caseSensitive", true),
    ignoreTrailingSlash: option("ignoreTrailingSlash", false),
    ignoreDuplicateSlashes: option("ignoreDuplicateSlashes", false),
    useSemicolonDelimiter: option("useSemicolonDelimiter", false),
  };
}

/**
 * The endpoint Fastify's router would send `url` to, were the method one it knows: the steps
 * find-my-way takes, in its order (path cut at `?`, `#` or, if enabled, `;`; percent-decoded
 * like `decodeURI`, which keeps reserved characters such as `%2F` encoded; duplicate slashes
 * merged and the trailing one dropped if enabled; case folded unless case-sensitive).
 */
function endpointFor(handlers: TokenHandlers, rules: Routing, url: string): Endpoint | undefined {
  let path = url.split(rules.useSemicolonDelimiter ? /[?#;]/ : /[?#]/, 1)[0] as string;
  try {
    path = decodeURI(path);
  } catch {
    return undefined;
  }
  const fold = (candidate: string) => {
    let folded = candidate;
    if (rules.ignoreDuplicateSlashes) folded = folded.replace(/\/{2,}/g, "/");
    if (rules.ignoreTrailingSlash && folded.length > 1) folded = folded.replace(/\/$/, "");
    return rules.caseSensitive ? folded : folded.toLowerCase();
  };
  const wanted = fold(path);
  return handlers.endpoints.find((endpoint) => fold(endpoint.path) === wanted);
}

/** The encapsulated part of {@link tokensPlugin}: the endpoints with their own parsing. */
const endpointRoutes: FastifyPluginAsync<TokensPluginOptions> = async (fastify, { handlers }) => {
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
 * A Fastify plugin serving the token endpoints (refresh, revoke, JWKS, metadata) at the paths
 * the handlers name. Register it without a `prefix`: the metadata document must live under
 * `/.well-known/`. The endpoints are encapsulated: inside them every body reaches the handlers
 * unparsed (they apply their own size cap and content-type rules), and your app's parsers are
 * untouched. `request.ip` becomes the session's client IP, so set `trustProxy` to match your proxy.
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
export const tokensPlugin: FastifyPluginAsync<TokensPluginOptions> = Object.assign(
  async (fastify: FastifyInstance, options: TokensPluginOptions) => {
    const { handlers } = options;
    /*
     * `fastify.all` covers only the methods Fastify knows; any other method (PROPFIND, say) on an
     * endpoint path finds no route and would get Fastify's 404, which echoes the raw URL and has
     * no `Allow`. Such a request always lands in the app's root not-found context (a method
     * without a router tree never reaches a prefix's 404 handler), so no `setNotFoundHandler` of
     * ours could catch it, and taking over the app's 404 handler is not ours to do;
     * `addHttpMethod` is global too: every `all` route the app registers afterwards would start
     * receiving the added methods. Hence one hook on the app's instance (this outer function skips
     * encapsulation): a synchronous flag check per request, and a path comparison against the
     * four endpoint paths only when the router found no route; the endpoint itself then answers
     * 405 with `Allow`, as it does for every other wrong method.
     */
    const rules = routing(fastify);
    fastify.addHook("onRequest", (request, reply, done) => {
      const endpoint = request.is404 ? endpointFor(handlers, rules, request.url) : undefined;
      if (endpoint === undefined) return done();
      endpoint
        .handle(toRequest(request, false), { ip: request.ip })
        .then((response) => sendResponse(reply, response))
        .catch(done);
    });
    await fastify.register(endpointRoutes, options);
  },
  // What `fastify-plugin` sets: this function runs on the app's instance, not a child of it.
  { [Symbol.for("skip-override")]: true },
);

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
