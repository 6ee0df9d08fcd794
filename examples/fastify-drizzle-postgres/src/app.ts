import { createTokens, type SigningKey } from "@tokens/core";
import { type AnyPgDatabase, drizzleStore } from "@tokens/drizzle";
import { issueTokens, requireAuth, tokensPlugin } from "@tokens/fastify";
import { createHandlers } from "@tokens/http";
import Fastify, { type FastifyInstance } from "fastify";

/**
 * What the app is built from.
 *
 * @example
 * ```ts
 * const options: AppOptions = { issuer: "https://auth.example.com", keys, db };
 * ```
 */
export interface AppOptions {
  /** The public URL of the server: the tokens' issuer. */
  issuer: string;
  /** Private signing keys, e.g. parsed from a `TOKENS_SIGNING_KEYS` secret. */
  keys: SigningKey[];
  /** A Drizzle PostgreSQL database with the tokens tables migrated (see `openDatabase`). */
  db: AnyPgDatabase;
}

/** The demo's only account; a real app checks a password hash from its user table. */
const DEMO = { username: "demo", password: "demo", subject: "user_demo" };

/**
 * Builds the Fastify app: the token endpoints, a demo login and one protected route.
 *
 * @example
 * ```ts
 * const app = await createApp({ issuer: "http://localhost:3000", keys, db });
 * await app.listen({ port: 3000 });
 * ```
 */
export async function createApp(options: AppOptions): Promise<FastifyInstance> {
  const tokens = createTokens({
    issuer: options.issuer,
    audience: new URL("/api", options.issuer).href,
    keys: options.keys,
    store: drizzleStore(options.db),
  });
  // Body mode: the refresh token travels in JSON, for native and server-side clients.
  const handlers = createHandlers(tokens, { basePath: "/auth" });

  const app = Fastify();
  await app.register(tokensPlugin, { handlers });
  app.post("/auth/login", async (request, reply) => {
    const body = request.body as Record<string, unknown> | undefined;
    if (body?.username !== DEMO.username || body.password !== DEMO.password) {
      return reply.code(401).send({ error: "invalid_credentials" });
    }
    return issueTokens(handlers, request, reply, { subject: DEMO.subject });
  });
  // An onRequest hook: it refuses before Fastify parses any body, in the RFC 6750 shape.
  app.get("/api/me", { onRequest: requireAuth(handlers) }, async (request) => ({
    sub: request.auth?.sub,
  }));
  return app;
}
