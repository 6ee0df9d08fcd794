// Runs the example: MONGODB_URL names the server and the database (created on first write).
import { generateSigningKey } from "@tokens/core";
import { createApp } from "./app.js";
import { type Database, openDatabase } from "./database.js";

const url = process.env.MONGODB_URL ?? "mongodb://127.0.0.1:27017/tokens_example";
const port = Number(process.env.PORT ?? 3000);
let database: Database;
try {
  database = await openDatabase(url);
} catch (error) {
  // One readable line rather than a stack trace; the URL is not printed, it may hold a password.
  console.error(`Cannot start: ${(error as Error).message}. Is MongoDB running at MONGODB_URL?`);
  process.exit(1);
}
// A fresh key per start signs everyone out on restart; deployments load TOKENS_SIGNING_KEYS.
const { app, tokens } = createApp({
  issuer: `http://localhost:${port}`,
  keys: [await generateSigningKey("EdDSA")],
  db: database.db,
});
app.listen(port, "127.0.0.1", () => console.log(`listening on http://localhost:${port}`));
// Ended sessions are deleted a day after they end (core's purgeRetention), through the
// purgeAfter index; every instance may run it, each call deletes in short batches.
setInterval(() => {
  tokens.purge().catch((error: unknown) => console.error(`purge failed: ${String(error)}`));
}, 600_000).unref();
