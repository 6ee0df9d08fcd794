import { PGlite } from "@electric-sql/pglite";
import { drizzle } from "drizzle-orm/pglite";
import { BASELINE_TABLE, BASELINE_TABLES, type BenchDatabase, baselineChain } from "./database.js";
import {
  PG_BASELINE_DDL,
  PG_ROTATE,
  PG_ROW_INSERT,
  PG_ROW_ROTATE,
  pgFillStatements,
} from "./postgres.js";

/** PGlite in memory, in this process: adapter and baseline share the one instance. */
export async function openPglite(): Promise<BenchDatabase> {
  const db = await PGlite.create();
  const version = await db.query<{ server_version: string }>("SHOW server_version");
  return {
    label: `PGlite (PostgreSQL ${version.rows[0]?.server_version}, in memory)`,
    dialect: "postgresql",
    async reset(migration) {
      await db.exec(
        `DROP TABLE IF EXISTS tokens_refresh_tokens, tokens_sessions, ${BASELINE_TABLES.join(", ")} CASCADE`,
      );
      for (const statement of migration) await db.exec(statement);
      for (const statement of PG_BASELINE_DDL) await db.exec(statement);
    },
    async fill(from, to) {
      for (const statement of pgFillStatements(from, to)) await db.exec(statement);
      await db.exec("ANALYZE");
    },
    baseline: () =>
      baselineChain(
        async (hash, sessionId) => {
          await db.query(`INSERT INTO ${BASELINE_TABLE} (hash, session_id) VALUES ($1, $2)`, [
            hash,
            sessionId,
          ]);
        },
        async (spent, next) => (await db.query(PG_ROTATE, [spent, next])).affectedRows === 1,
      ),
    rowBaseline: () =>
      baselineChain(
        async (hash, sessionId) => {
          await db.query(PG_ROW_INSERT, [sessionId, hash]);
        },
        async (spent, next, sessionId) =>
          (await db.query(PG_ROW_ROTATE, [sessionId, spent, next])).rows.length === 1,
      ),
    drizzle: async () => drizzle({ client: db }),
    prismaAdapter: async () => {
      const { PrismaPGlite } = await import("pglite-prisma-adapter");
      return new PrismaPGlite(db);
    },
    async close() {
      await db.close();
    },
  };
}
