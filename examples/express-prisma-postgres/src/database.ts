import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "./generated/client.js";

const MIGRATION = "migrations/postgresql/20261123000000_tokens_init/migration.sql";

/**
 * Creates the tokens tables unless they exist, with the SQL @tokens/prisma ships: the
 * "without Prisma Migrate" route of its README, which needs no schema engine. An app already on
 * Prisma Migrate copies the migration folder into `prisma/migrations/` instead.
 *
 * @example
 * ```ts
 * await createTables(process.env.POSTGRES_URL!);
 * ```
 */
export async function createTables(url: string): Promise<void> {
  const root = dirname(createRequire(import.meta.url).resolve("@tokens/prisma/package.json"));
  const sql = await readFile(join(root, MIGRATION), "utf8");
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("BEGIN");
    // Two instances starting together: the second waits, then sees the tables.
    await client.query("SELECT pg_advisory_xact_lock(hashtext('tokens_prisma_init'))");
    const found = await client.query("SELECT to_regclass('tokens_sessions') AS t");
    if (found.rows[0]?.t === null) await client.query(sql);
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
