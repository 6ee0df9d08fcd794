// Runs the example: POSTGRES_URL names an existing database (`createdb tokens_example_drizzle`).
import { generateSigningKey } from "@tokens/core";
import { createApp } from "./app.js";
import { openDatabase } from "./database.js";

const url = process.env.POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/tokens_example_drizzle";
const port = Number(process.env.PORT ?? 3000);
const { db, close } = await openDatabase(url);
// A fresh key per start signs everyone out on restart; deployments load TOKENS_SIGNING_KEYS.
const app = await createApp({
  issuer: `http://localhost:${port}`,
  keys: [await generateSigningKey("EdDSA")],
  db,
});
app.addHook("onClose", close);
await app.listen({ port, host: "127.0.0.1" });
console.log(`listening on http://localhost:${port}`);
