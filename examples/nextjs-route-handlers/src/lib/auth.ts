import { createTokens, generateSigningKey, type SigningKey } from "@tokens/core";
import { createHandlers, type TokenHandlers } from "@tokens/http";
import { memoryStore } from "@tokens/memory";

// Next.js re-evaluates modules on every edit in development; keeping the instance on
// globalThis keeps sessions (and the key) across reloads.
const cache = globalThis as typeof globalThis & { tokensHandlers?: Promise<TokenHandlers> };

async function create(): Promise<TokenHandlers> {
  // Production: a JSON array of private JWKs in a secret. Development: a key per process.
  const keys = process.env.TOKENS_SIGNING_KEYS
    ? (JSON.parse(process.env.TOKENS_SIGNING_KEYS) as SigningKey[])
    : [await generateSigningKey("EdDSA")];
  const issuer = process.env.TOKENS_ISSUER ?? "http://localhost:3000";
  const tokens = createTokens({
    issuer,
    audience: new URL("/api", issuer).href,
    keys,
    // One process only: deploy with @tokens/drizzle or @tokens/prisma over your database.
    store: memoryStore(),
  });
  return createHandlers(tokens, { basePath: "/auth" });
}

/**
 * The app's token handlers, created once per server process.
 *
 * @example
 * ```ts
 * // src/app/auth/token/refresh/route.ts
 * export const POST = async (request: Request) => (await auth()).refresh(request);
 * ```
 */
export function auth(): Promise<TokenHandlers> {
  cache.tokensHandlers ??= create();
  return cache.tokensHandlers;
}
