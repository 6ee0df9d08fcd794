import { createHash } from "node:crypto";
import { drizzle } from "drizzle-orm/node-postgres";
import pg from "pg";
import {
  BASELINE_TABLE,
  BASELINE_TABLES,
  type BenchDatabase,
  baselineChain,
  ROW_TABLE,
  withDatabase,
} from "./database.js";

/** What the benchmark fills; the dropped table of the earlier shape is only ever dropped. */
const TABLES = ["tokens_sessions", ...BASELINE_TABLES];

/** Rows `from + 1 … to` of the adapter's table and the baseline tables (PostgreSQL and PGlite). */
export function pgFillStatements(from: number, to: number): string[] {
  const hash = `translate(rtrim(encode(sha256(('bulk' || g)::text::bytea), 'base64'), '='), '+/', '-_')`;
  const series = `generate_series(${from + 1}, ${to}) g`;
  return [
    `INSERT INTO tokens_sessions (id, subject, client_id, generation, current_hash, created_at, last_used_at, idle_expires_at, expires_at, purge_after)
     SELECT 'bulk-' || g, 'user-' || (g % 100000), 'default', 0, ${hash}, now(), now(), now() + interval '7 days', now() + interval '30 days', date_trunc('day', now() + interval '7 days')
     FROM ${series}`,
    `INSERT INTO ${BASELINE_TABLE} (hash, session_id) SELECT ${hash}, 'bulk-' || g FROM ${series}`,
    `INSERT INTO ${ROW_TABLE} (id, subject, generation, current_hash, idle_expires_at, expires_at)
     SELECT 'bulk-' || g, 'user-' || (g % 100000), 0, ${hash}, now() + interval '7 days', now() + interval '30 days' FROM ${series}`,
  ];
}

export const PG_BASELINE_DDL = [
  `CREATE TABLE ${BASELINE_TABLE} (hash text PRIMARY KEY, session_id text NOT NULL, used_at timestamptz)`,
  `CREATE TABLE ${ROW_TABLE} (id text PRIMARY KEY, subject text NOT NULL, generation integer NOT NULL, current_hash text NOT NULL, previous_hash text, rotated_at timestamptz, idle_expires_at timestamptz NOT NULL, expires_at timestamptz NOT NULL, revoked_at timestamptz) WITH (fillfactor = 80)`,
  `CREATE INDEX ${ROW_TABLE}_subject ON ${ROW_TABLE} (subject)`,
];
export const PG_ROTATE = `WITH spent AS (
  UPDATE ${BASELINE_TABLE} SET used_at = now() WHERE hash = $1 AND used_at IS NULL RETURNING session_id
) INSERT INTO ${BASELINE_TABLE} (hash, session_id) SELECT $2, session_id FROM spent`;
export const PG_ROW_INSERT = `INSERT INTO ${ROW_TABLE} (id, subject, generation, current_hash, idle_expires_at, expires_at) VALUES ($1, 'chain', 0, $2, now() + interval '7 days', now() + interval '30 days')`;
export const PG_ROW_ROTATE = `UPDATE ${ROW_TABLE} SET generation = generation + 1, previous_hash = current_hash, current_hash = $3, rotated_at = now(), idle_expires_at = LEAST(now() + interval '7 days', expires_at)
  WHERE id = $1 AND current_hash = $2 AND revoked_at IS NULL AND expires_at > now() AND idle_expires_at > now() RETURNING subject, generation`;

/** PostgreSQL server at POSTGRES_URL, in its own database `tokens_bench`. */
export async function openPostgres(url: string, poolSize: number): Promise<BenchDatabase> {
  const target = withDatabase(url, "tokens_bench");
  const admin = new pg.Client({ connectionString: withDatabase(url, "postgres") });
  await admin.connect();
  try {
    const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = 'tokens_bench'");
    if (exists.rowCount === 0) await admin.query("CREATE DATABASE tokens_bench");
  } finally {
    await admin.end();
  }
  const setup = new pg.Pool({ connectionString: target, max: 1 });
  const adapterPool = new pg.Pool({ connectionString: target, max: poolSize });
  const baselinePool = new pg.Pool({ connectionString: target, max: poolSize });
  const version = await setup.query("SHOW server_version");

  return {
    label: `PostgreSQL ${version.rows[0].server_version.split(" ")[0]}`,
    dialect: "postgresql",
    serverProcess: "postgres",
    async reset(migration) {
      await setup.query(`DROP TABLE IF EXISTS tokens_refresh_tokens, ${TABLES.join(", ")} CASCADE`);
      for (const statement of migration) await setup.query(statement);
      for (const statement of PG_BASELINE_DDL) await setup.query(statement);
    },
    async fill(from, to) {
      const client = await setup.connect();
      try {
        // A large load is much faster with the secondary indexes built afterwards and without
        // per-row foreign-key checks; the rows are valid by construction.
        const large = to - from > 100_000;
        const { rows: indexes } = large
          ? await client.query<{ indexname: string; indexdef: string }>(
              `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY($1)
               AND indexname NOT IN (SELECT conname FROM pg_constraint)`,
              [TABLES],
            )
          : { rows: [] };
        if (large) {
          await client.query("SET session_replication_role = replica");
          await client.query("SET maintenance_work_mem = '256MB'");
          for (const { indexname } of indexes) await client.query(`DROP INDEX "${indexname}"`);
        }
        for (const statement of pgFillStatements(from, to)) await client.query(statement);
        for (const { indexdef } of indexes) await client.query(indexdef);
        if (large) await client.query("SET session_replication_role = DEFAULT");
        for (const table of TABLES) await client.query(`VACUUM ANALYZE ${table}`);
      } finally {
        client.release();
      }
    },
    baseline: () =>
      baselineChain(
        async (hash, sessionId) => {
          await baselinePool.query(
            `INSERT INTO ${BASELINE_TABLE} (hash, session_id) VALUES ($1, $2)`,
            [hash, sessionId],
          );
        },
        async (spent, next) =>
          (await baselinePool.query({ name: "rotate", text: PG_ROTATE, values: [spent, next] }))
            .rowCount === 1,
      ),
    rowBaseline: () =>
      baselineChain(
        async (hash, sessionId) => {
          await baselinePool.query(PG_ROW_INSERT, [sessionId, hash]);
        },
        async (spent, next, sessionId) =>
          (
            await baselinePool.query({
              name: "rotate_row",
              text: PG_ROW_ROTATE,
              values: [sessionId, spent, next],
            })
          ).rowCount === 1,
      ),
    drizzle: async () => drizzle({ client: adapterPool }),
    prismaAdapter: async () => {
      const { PrismaPg } = await import("@prisma/adapter-pg");
      // As the store's README recommends: statements stay prepared on each connection.
      return new PrismaPg(adapterPool, {
        statementNameGenerator: (query) => `q${createHash("sha1").update(query.sql).digest("hex")}`,
      });
    },
    async close() {
      await Promise.all([setup.end(), adapterPool.end(), baselinePool.end()]);
    },
  };
}
