import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "./generated/client.js";

/** The migrations @tokens/prisma ships, in order, each with a query telling whether it ran. */
const MIGRATIONS = [
  {
    folder: "20261123000000_tokens_init",
    applied: "SELECT to_regclass('tokens_sessions') IS NOT NULL AS applied",
  },
  {
    folder: "20261124000000_tokens_binding_key",
    applied: `SELECT EXISTS (SELECT 1 FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name = 'tokens_sessions'
                  AND column_name = 'binding_key') AS applied`,
  },
  {
    folder: "20261203000000_tokens_session_row",
    applied: `SELECT EXISTS (SELECT 1 FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name = 'tokens_sessions'
                  AND column_name = 'purge_after') AS applied`,
  },
  {
    folder: "20261204000000_dpop_binding",
    applied: `SELECT EXISTS (SELECT 1 FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name = 'tokens_sessions'
                  AND column_name = 'dpop_jkt') AS applied`,
  },
];

/**
 * Creates or upgrades the tokens tables with the SQL @tokens/prisma ships: the "without Prisma
 * Migrate" route of its README, which needs no schema engine. An app already on Prisma Migrate
 * copies the migration folders into `prisma/migrations/` instead.
 *
 * @example
 * ```ts
 * await createTables(process.env.POSTGRES_URL!);
 * ```
 */
export async function createTables(url: string): Promise<void> {
  const root = dirname(createRequire(import.meta.url).resolve("@tokens/prisma/package.json"));
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("BEGIN");
    // Two instances starting together: the second waits, then sees the tables.
    await client.query("SELECT pg_advisory_xact_lock(hashtext('tokens_prisma_init'))");
    for (const migration of MIGRATIONS) {
      const found = await client.query(migration.applied);
      if (found.rows[0]?.applied) continue;
      const file = join(root, "migrations/postgresql", migration.folder, "migration.sql");
      await client.query(await readFile(file, "utf8"));
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  } finally {
    await client.end();
  }
}

/**
 * A Prisma client over `url` through the `pg` driver adapter.
 *
 * @example
 * ```ts
 * const prisma = openPrisma(process.env.POSTGRES_URL!);
 * ```
 */
export function openPrisma(url: string): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) });
}
