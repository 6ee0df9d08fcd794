import { createClient } from "@libsql/client/web";
import type { SigningKey } from "@tokens/core";
import { drizzle } from "drizzle-orm/libsql/web";
import type { Hono } from "hono";
import { createApp } from "./app.js";

export { type AppOptions, createApp } from "./app.js";

/** The bindings an edge runtime passes to `fetch` (Wrangler vars and secrets, say). */
export interface Env {
  ISSUER: string;
  /** JSON array of private JWKs. */
  TOKENS_SIGNING_KEYS: string;
  /** A libSQL server or Turso database, `libsql://…` or `https://…`. */
  DATABASE_URL: string;
  DATABASE_AUTH_TOKEN?: string;
}

// Built on the first request and kept for the isolate's life: keys are parsed once and the
// database client is reused.
let app: Hono | undefined;

/**
 * The edge entry point, `export default { fetch }`, as Workers, Deno and Bun expect it.
 *
 * @example
 * ```ts
 * // wrangler.toml: main = "src/index.ts"
 * ```
 */
export default {
  fetch(request: Request, env: Env): Response | Promise<Response> {
    app ??= createApp({
      issuer: env.ISSUER,
      keys: JSON.parse(env.TOKENS_SIGNING_KEYS) as SigningKey[],
      db: drizzle({
        client: createClient({ url: env.DATABASE_URL, authToken: env.DATABASE_AUTH_TOKEN }),
      }),
    });
    return app.fetch(request, env);
  },
};
