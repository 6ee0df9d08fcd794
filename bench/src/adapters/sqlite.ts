import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { type Client, createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { BASELINE_TABLE, type BenchDatabase, baselineChain } from "./database.js";

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
      for (const table of ["tokens_refresh_tokens", "tokens_sessions", BASELINE_TABLE]) {
        await setup.execute(`DROP TABLE IF EXISTS ${table}`);
      }
      for (const statement of migration) await setup.execute(statement);
      await setup.execute(
        `CREATE TABLE ${BASELINE_TABLE} (hash text PRIMARY KEY, session_id text NOT NULL, used_at integer)`,
      );
    },
    async fill(from, to) {
      // No SHA-256 in SQLite: random 32-byte hex stands in for the hashes (only size matters here).
      const series = `WITH RECURSIVE g(n) AS (SELECT ${from + 1} UNION ALL SELECT n + 1 FROM g WHERE n < ${to})`;
      const now = Date.now();
      await setup.batch(
        [
          `${series} INSERT INTO tokens_sessions (id, subject, client_id, generation, current_hash, created_at, last_used_at, idle_expires_at, expires_at)
           SELECT 'bulk-' || n, 'user-' || (n % 100000), 'default', 0, lower(hex(randomblob(32))), ${now}, ${now}, ${now + 7 * 86_400_000}, ${now + 30 * 86_400_000} FROM g`,
          `INSERT INTO tokens_refresh_tokens (hash, session_id, generation, created_at)
           SELECT current_hash, id, 0, created_at FROM tokens_sessions WHERE id LIKE 'bulk-%' AND CAST(substr(id, 6) AS integer) > ${from}`,
          `${series} INSERT INTO ${BASELINE_TABLE} (hash, session_id) SELECT lower(hex(randomblob(32))), 'bulk-' || n FROM g`,
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
