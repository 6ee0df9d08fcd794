import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { type Client, createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import {
  BASELINE_TABLE,
  BASELINE_TABLES,
  type BenchDatabase,
  baselineChain,
  ROW_TABLE,
} from "./database.js";

/** A libsql SQLite file (WAL), one client for the adapter and one for the baseline. */
export async function openSqlite(): Promise<BenchDatabase> {
  const file = `${tmpdir()}/tokens_bench.sqlite`;
  for (const suffix of ["", "-wal", "-shm"]) rmSync(`${file}${suffix}`, { force: true });
  const url = `file:${file}`;
  const setup = createClient({ url });
  await setup.execute("PRAGMA journal_mode = WAL");
  const open = async (): Promise<Client> => {
    const client = createClient({ url });
    await client.execute("PRAGMA busy_timeout = 10000");
    return client;
  };
  const adapterClient = await open();
  const baselineClient = await open();
  const version = await setup.execute("SELECT sqlite_version() AS v");

  return {
    label: `SQLite ${String(version.rows[0]?.v)} (libsql, file)`,
    dialect: "sqlite",
    async reset(migration) {
      for (const table of ["tokens_refresh_tokens", "tokens_sessions", ...BASELINE_TABLES]) {
        await setup.execute(`DROP TABLE IF EXISTS ${table}`);
      }
      for (const statement of migration) await setup.execute(statement);
      await setup.execute(
        `CREATE TABLE ${BASELINE_TABLE} (hash text PRIMARY KEY, session_id text NOT NULL, used_at integer)`,
      );
      await setup.execute(
        `CREATE TABLE ${ROW_TABLE} (id text PRIMARY KEY, subject text NOT NULL, generation integer NOT NULL, current_hash text NOT NULL, previous_hash text, rotated_at integer, idle_expires_at integer NOT NULL, expires_at integer NOT NULL, revoked_at integer)`,
      );
      await setup.execute(`CREATE INDEX ${ROW_TABLE}_subject ON ${ROW_TABLE} (subject)`);
    },
    async fill(from, to) {
      // No SHA-256 in SQLite: random 32-byte hex stands in for the hashes (only size matters here).
      const series = `WITH RECURSIVE g(n) AS (SELECT ${from + 1} UNION ALL SELECT n + 1 FROM g WHERE n < ${to})`;
      const now = Date.now();
      const idle = now + 7 * 86_400_000;
      await setup.batch(
        [
          `${series} INSERT INTO tokens_sessions (id, subject, client_id, generation, current_hash, created_at, last_used_at, idle_expires_at, expires_at, purge_after)
           SELECT 'bulk-' || n, 'user-' || (n % 100000), 'default', 0, lower(hex(randomblob(32))), ${now}, ${now}, ${idle}, ${now + 30 * 86_400_000}, ${idle - (idle % 86_400_000)} FROM g`,
          `${series} INSERT INTO ${BASELINE_TABLE} (hash, session_id) SELECT lower(hex(randomblob(32))), 'bulk-' || n FROM g`,
          `${series} INSERT INTO ${ROW_TABLE} (id, subject, generation, current_hash, idle_expires_at, expires_at)
           SELECT 'bulk-' || n, 'user-' || (n % 100000), 0, lower(hex(randomblob(32))), ${idle}, ${now + 30 * 86_400_000} FROM g`,
          "ANALYZE",
        ],
        "write",
      );
    },
    baseline: () =>
      baselineChain(
        async (hash, sessionId) => {
          await baselineClient.execute({
            sql: `INSERT INTO ${BASELINE_TABLE} (hash, session_id) VALUES (?, ?)`,
            args: [hash, sessionId],
          });
        },
        async (spent, next) => {
          // One write transaction: spend the token, insert its successor only if that worked.
          const [, inserted] = await baselineClient.batch(
            [
              {
                sql: `UPDATE ${BASELINE_TABLE} SET used_at = ? WHERE hash = ? AND used_at IS NULL`,
                args: [Date.now(), spent],
              },
              {
                sql: `INSERT INTO ${BASELINE_TABLE} (hash, session_id) SELECT ?, session_id FROM ${BASELINE_TABLE} WHERE hash = ? AND changes() = 1`,
                args: [next, spent],
              },
            ],
            "write",
          );
          return inserted?.rowsAffected === 1;
        },
      ),
    rowBaseline: () =>
      baselineChain(
        async (hash, sessionId) => {
          const now = Date.now();
          await baselineClient.execute({
            sql: `INSERT INTO ${ROW_TABLE} (id, subject, generation, current_hash, idle_expires_at, expires_at) VALUES (?, 'chain', 0, ?, ?, ?)`,
            args: [sessionId, hash, now + 7 * 86_400_000, now + 30 * 86_400_000],
          });
        },
        async (spent, next, sessionId) => {
          const now = Date.now();
          const result = await baselineClient.execute({
            sql: `UPDATE ${ROW_TABLE} SET generation = generation + 1, previous_hash = current_hash, current_hash = ?, rotated_at = ?, idle_expires_at = MIN(?, expires_at)
                  WHERE id = ? AND current_hash = ? AND revoked_at IS NULL AND expires_at > ? AND idle_expires_at > ? RETURNING subject, generation`,
            args: [next, now, now + 7 * 86_400_000, sessionId, spent, now, now],
          });
          return result.rows.length === 1;
        },
      ),
    drizzle: async () => drizzle({ client: adapterClient }),
    prismaAdapter: async () => {
      const { PrismaLibSql } = await import("@prisma/adapter-libsql");
      // `timeout` is SQLite's busy timeout, as for the drizzle side's client.
      return new PrismaLibSql({ url, timeout: 10_000 });
    },
    async close() {
      setup.close();
      adapterClient.close();
      baselineClient.close();
      for (const suffix of ["", "-wal", "-shm"]) rmSync(`${file}${suffix}`, { force: true });
    },
  };
}
