import { createTokens, type SigningKey } from "@tokens/core";
import { type AnySQLiteDatabase, drizzleStore } from "@tokens/drizzle";
import { requireAuth, tokensApp } from "@tokens/hono";
import { createHandlers } from "@tokens/http";
import { Hono } from "hono";

/**
 * What the app needs from its runtime. Nothing here is Node-specific: the same app runs on
 * Cloudflare Workers (D1 or Turso), Deno, Bun or Node.
 */
export interface AppOptions {
  /** The public URL of the server: the tokens' issuer. */
  issuer: string;
  /** Private signing keys, e.g. parsed from a `TOKENS_SIGNING_KEYS` secret. */
  keys: SigningKey[];
  /** A Drizzle SQLite database whose schema has the tokens tables (see `migrate.ts`). */
  db: AnySQLiteDatabase;
}

/** The demo's only account; a real app checks a password hash from its user table. */
const DEMO = { username: "demo", password: "demo", subject: "user_demo" };

/**
 * Builds the Hono app: the token endpoints, a demo login and one protected route.
 *
 * @example
 * ```ts
 * const app = createApp({ issuer: "https://auth.example.com", keys, db: drizzle(env.DB) });
 * export default { fetch: app.fetch };
 * ```
 */
export function createApp(options: AppOptions): Hono {
  const tokens = createTokens({
    issuer: options.issuer,
    audience: new URL("/api", options.issuer).href,
    keys: options.keys,
    store: drizzleStore(options.db),
  });
  // Body mode: the refresh token travels in JSON, for native and server-side clients.
  const handlers = createHandlers(tokens, { basePath: "/auth" });

  return new Hono()
    .route("/", tokensApp(handlers))
    .post("/auth/login", async (c) => {
      const body = (await c.req.json().catch(() => null)) as Record<string, unknown> | null;
      if (body?.username !== DEMO.username || body.password !== DEMO.password) {
        return c.json({ error: "invalid_credentials" }, 401);
      }
      return handlers.issue(c.req.raw, { subject: DEMO.subject });
    })
    .get("/api/me", requireAuth(handlers), (c) => c.json({ sub: c.get("auth").sub }));
}
