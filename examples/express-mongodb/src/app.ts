import { createTokens, type SigningKey, type Tokens } from "@tokens/core";
import { issueTokens, requireAuth, tokensRouter } from "@tokens/express";
import { createHandlers } from "@tokens/http";
import { mongoStore } from "@tokens/mongodb";
import express, { type Express } from "express";
import type { Db } from "mongodb";

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
  /** The MongoDB database holding the sessions collection, indexed (see `openDatabase`). */
  db: Db;
}

/** The demo's only account; a real app checks a password hash from its user collection. */
const DEMO = { username: "demo", password: "demo", subject: "user_demo" };

/** The app and the tokens instance behind it (for `tokens.purge()` on a timer). */
export interface App {
  app: Express;
  tokens: Tokens;
}

/**
 * Builds the Express app: the token endpoints, a demo login and one protected route.
 *
 * @example
 * ```ts
 * const { db } = await openDatabase(process.env.MONGODB_URL!);
 * const { app, tokens } = createApp({ issuer: "http://localhost:3000", keys, db });
 * app.listen(3000);
 * setInterval(() => void tokens.purge(), 600_000).unref();
 * ```
 */
export function createApp(options: AppOptions): App {
  const tokens = createTokens({
    issuer: options.issuer,
    audience: new URL("/api", options.issuer).href,
    keys: options.keys,
    // One document per session in `tokens_sessions`; reads always go to the primary.
    store: mongoStore({ db: options.db }),
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
  return { app, tokens };
}
