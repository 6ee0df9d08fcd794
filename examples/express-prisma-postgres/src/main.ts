// Runs the example: POSTGRES_URL names an existing database (`createdb tokens_example_prisma`).
import { generateSigningKey } from "@tokens/core";
import { createApp } from "./app.js";
import { createTables, openPrisma } from "./database.js";

const url = process.env.POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/tokens_example_prisma";
const port = Number(process.env.PORT ?? 3000);
await createTables(url);
// A fresh key per start signs everyone out on restart; deployments load TOKENS_SIGNING_KEYS.
const app = createApp({
  issuer: `http://localhost:${port}`,
  keys: [await generateSigningKey("EdDSA")],
  prisma: openPrisma(url),
});
app.listen(port, "127.0.0.1", () => console.log(`listening on http://localhost:${port}`));
