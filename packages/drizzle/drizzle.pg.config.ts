import { defineConfig } from "drizzle-kit";

// Generates the checked-in migrations/pg from the default tables: `drizzle-kit generate --config drizzle.pg.config.ts`.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/schema/pg.ts",
  out: "./migrations/pg",
});
