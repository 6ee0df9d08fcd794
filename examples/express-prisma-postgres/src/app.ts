import { createTokens, type SigningKey } from "@tokens/core";
import { issueTokens, requireAuth, tokensRouter } from "@tokens/express";
import { createHandlers } from "@tokens/http";
import { type PrismaTokensClient, prismaStore } from "@tokens/prisma";
import express, { type Express } from "express";

/**
 * What the app is built from.
 *
 * @example
 * ```ts
 * const options: AppOptions = { issuer: "https://auth.example.com", keys, prisma };
 * ```
 */
export interface AppOptions {
  /** The public URL of the server: the tokens' issuer. */
  issuer: string;
  /** Private signing keys, e.g. parsed from a `TOKENS_SIGNING_KEYS` secret. */
  keys: SigningKey[];
  /** The app's Prisma client, its schema holding the tokens models. */
  prisma: PrismaTokensClient;
}

/** The demo's only account; a real app checks a password hash from its user table. */
const DEMO = { username: "demo", password: "demo", subject: "user_demo" };

/**
 * Builds the Express app: the token endpoints, a demo login and one protected route.
 *
 * @example
 * ```ts
 * createApp({ issuer: "http://localhost:3000", keys, prisma }).listen(3000);
 * ```
 */
export function createApp(options: AppOptions): Express {
  const tokens = createTokens({
    issuer: options.issuer,
    audience: new URL("/api", options.issuer).href,
    keys: options.keys,
    store: prismaStore(options.prisma),
  });
  // Body mode: the refresh token travels in JSON, for native and server-side clients.
  const handlers = createHandlers(tokens, { basePath: "/auth" });

  const app = express();
  app.use(tokensRouter(handlers));
  app.post("/auth/login", express.json(), async (req, res) => {
    const body = req.body as Record<string, unknown> | undefined;
    if (body?.username !== DEMO.username || body.password !== DEMO.password) {
      res.status(401).json({ error: "invalid_credentials" });
      return;
    }
    await issueTokens(handlers, req, res, { subject: DEMO.subject });
  });
  app.get("/api/me", requireAuth(handlers), (req, res) => {
    res.json({ sub: req.auth?.sub });
  });
  return app;
}
