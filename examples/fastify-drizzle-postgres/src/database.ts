import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";

/** A migrated database and how to release its pool. */
export interface Database {
  db: NodePgDatabase;
  close(): Promise<void>;
}

/**
 * Opens `url` and applies the migrations @tokens/drizzle ships, under a migrations table of
 * their own. Idempotent: run it at every start.
 *
 * @example
 * ```ts
 * const { db, close } = await openDatabase("postgres://postgres@127.0.0.1:5432/tokens");
 * ```
 */
export async function openDatabase(url: string): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const db = drizzle({ client: pool });
  const root = dirname(createRequire(import.meta.url).resolve("@tokens/drizzle/package.json"));
  await migrate(db, {
    migrationsFolder: join(root, "migrations", "pg"),
    migrationsTable: "__tokens_migrations",
  });
  return { db, close: () => pool.end() };
}
