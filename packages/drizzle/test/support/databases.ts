import { fileURLToPath } from "node:url";
import mysql from "mysql2/promise";
import pg from "pg";
import { describe } from "vitest";

/** The checked-in drizzle-kit migrations, per dialect. */
export const migrationsFolder = (dialect: "pg" | "mysql" | "sqlite") =>
  fileURLToPath(new URL(`../../migrations/${dialect}`, import.meta.url));

/**
 * `describe`, or `describe.skip` with one loud warning line when the server's URL is unset:
 * CI sets every URL and fails on these warnings, a laptop without the server still runs the rest.
 */
export function describeWith(variable: string, suite: string): typeof describe {
  if (process.env[variable]) return describe;
  console.warn(`[@tokens/drizzle] skipped the ${suite} suite: ${variable} is not set`);
  return describe.skip as typeof describe;
}

/** `url` with its database replaced by `database`: each suite gets its own database on the server. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** The server's maintenance database, which always exists (the URL's own may not yet). */
export const postgresAdminUrl = (url: string) => withDatabase(url, "postgres");

/** Drop and recreate `database` on the PostgreSQL server of `url`; resolves its URL. */
export async function freshPostgresDatabase(url: string, database: string): Promise<string> {
  const admin = new pg.Client({ connectionString: postgresAdminUrl(url) });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${database}"`);
  } finally {
    await admin.end();
  }
  return withDatabase(url, database);
}

/** Drop and recreate `database` on the MySQL/MariaDB server of `url`; resolves its URL. */
export async function freshMysqlDatabase(url: string, database: string): Promise<string> {
  // No database in the URL: the one it names need not exist yet.
  const admin = await mysql.createConnection(withDatabase(url, ""));
  try {
    await admin.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await admin.query(`CREATE DATABASE \`${database}\``);
  } finally {
    await admin.end();
  }
  return withDatabase(url, database);
}

/** Where nothing listens: stores built on it must fail with StoreUnavailableError, fast. */
export const CLOSED_PORT = 1;
