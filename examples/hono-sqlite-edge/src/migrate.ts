import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { LibSQLDatabase } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";

/**
 * Applies the SQLite migrations @tokens/drizzle ships (idempotent). A deploy step, run from
 * Node — the edge app itself never touches the file system.
 *
 * @example
 * ```ts
 * await migrateTokens(drizzle({ client: createClient({ url: "file:tokens.db" }) }));
 * ```
 */
export async function migrateTokens(db: LibSQLDatabase): Promise<void> {
  const root = dirname(createRequire(import.meta.url).resolve("@tokens/drizzle/package.json"));
  await migrate(db, {
    migrationsFolder: join(root, "migrations", "sqlite"),
    migrationsTable: "__tokens_migrations",
  });
}
