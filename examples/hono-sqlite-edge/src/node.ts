// Local development on Node: a SQLite file, a throwaway key, @hono/node-server.
import { serve } from "@hono/node-server";
import { createClient } from "@libsql/client";
import { generateSigningKey } from "@tokens/core";
import { drizzle } from "drizzle-orm/libsql";
import { createApp } from "./app.js";
import { migrateTokens } from "./migrate.js";

const port = Number(process.env.PORT ?? 3000);
const db = drizzle({ client: createClient({ url: process.env.DATABASE_URL ?? "file:tokens.db" }) });
await migrateTokens(db);
// A fresh key per start signs everyone out on restart; deployments load TOKENS_SIGNING_KEYS.
const app = createApp({
  issuer: `http://localhost:${port}`,
  keys: [await generateSigningKey("EdDSA")],
  db,
});
serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, (info) =>
  console.log(`listening on http://localhost:${info.port}`),
);
