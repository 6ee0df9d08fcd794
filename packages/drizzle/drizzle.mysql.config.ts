import { defineConfig } from "drizzle-kit";

// Generates the checked-in migrations/mysql from the default tables: `drizzle-kit generate --config drizzle.mysql.config.ts`.
export default defineConfig({
  dialect: "mysql",
  schema: "./src/schema/mysql.ts",
  out: "./migrations/mysql",
});
