import { defineConfig } from "drizzle-kit";

// Generates the checked-in migrations/sqlite from the default tables: `drizzle-kit generate --config drizzle.sqlite.config.ts`.
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/schema/sqlite.ts",
  out: "./migrations/sqlite",
});
