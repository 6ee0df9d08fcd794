import { drizzle } from "drizzle-orm/mysql2";
import mysql from "mysql2/promise";
import {
  BASELINE_TABLE,
  BASELINE_TABLES,
  type BenchDatabase,
  baselineChain,
  ROW_TABLE,
  withDatabase,
} from "./database.js";

const TABLES = ["tokens_sessions", ...BASELINE_TABLES];

/** MariaDB (or MySQL) at MYSQL_URL, in its own database `tokens_bench`. */
export async function openMariaDb(url: string, poolSize: number): Promise<BenchDatabase> {
  const admin = await mysql.createConnection(withDatabase(url, ""));
  try {
    await admin.query("CREATE DATABASE IF NOT EXISTS tokens_bench");
  } finally {
    await admin.end();
  }
  const target = withDatabase(url, "tokens_bench");
  const setup = await mysql.createConnection({ uri: target, multipleStatements: false });
  const adapterPool = mysql.createPool({ uri: target, connectionLimit: poolSize });
  const baselinePool = mysql.createPool({ uri: target, connectionLimit: poolSize });
  const [versionRows] = await setup.query("SELECT VERSION() AS v");
  const version = String((versionRows as { v: string }[])[0]?.v ?? "?").split("-")[0];

  return {
    label: `MariaDB ${version}`,
    dialect: "mysql",
    serverProcess: "mariadbd",
    async reset(migration) {
      await setup.query("SET foreign_key_checks = 0");
      for (const table of ["tokens_refresh_tokens", ...TABLES]) {
        await setup.query(`DROP TABLE IF EXISTS \`${table}\``);
      }
      await setup.query("SET foreign_key_checks = 1");
      for (const statement of migration) await setup.query(statement);
      await setup.query(
        `CREATE TABLE ${BASELINE_TABLE} (hash varbinary(64) PRIMARY KEY, session_id varbinary(255) NOT NULL, used_at datetime(3) NULL)`,
      );
      await setup.query(
        `CREATE TABLE ${ROW_TABLE} (id varbinary(255) PRIMARY KEY, subject varbinary(255) NOT NULL, generation int NOT NULL, current_hash varbinary(64) NOT NULL, previous_hash varbinary(64) NULL, rotated_at datetime(3) NULL, idle_expires_at datetime(3) NOT NULL, expires_at datetime(3) NOT NULL, revoked_at datetime(3) NULL, KEY ${ROW_TABLE}_subject (subject))`,
      );
    },
    async fill(from, to) {
      // MariaDB's SEQUENCE engine provides seq_<a>_to_<b> tables, its generate_series.
      const seq = `seq_${from + 1}_to_${to}`;
      const hash = `REPLACE(REPLACE(REPLACE(TO_BASE64(UNHEX(SHA2(CONCAT('bulk', seq), 256))), '=', ''), '+', '-'), '/', '_')`;
      await setup.query("SET foreign_key_checks = 0");
      await setup.query(
        `INSERT INTO tokens_sessions (id, subject, client_id, generation, current_hash, created_at, last_used_at, idle_expires_at, expires_at, purge_after)
         SELECT CONCAT('bulk-', seq), CONCAT('user-', seq % 100000), 'default', 0, ${hash}, NOW(3), NOW(3), NOW(3) + INTERVAL 7 DAY, NOW(3) + INTERVAL 30 DAY, DATE(NOW(3) + INTERVAL 7 DAY) FROM ${seq}`,
      );
      await setup.query(
        `INSERT INTO ${BASELINE_TABLE} (hash, session_id) SELECT ${hash}, CONCAT('bulk-', seq) FROM ${seq}`,
      );
      await setup.query(
        `INSERT INTO ${ROW_TABLE} (id, subject, generation, current_hash, idle_expires_at, expires_at)
         SELECT CONCAT('bulk-', seq), CONCAT('user-', seq % 100000), 0, ${hash}, NOW(3) + INTERVAL 7 DAY, NOW(3) + INTERVAL 30 DAY FROM ${seq}`,
      );
      await setup.query("SET foreign_key_checks = 1");
      for (const table of TABLES) await setup.query(`ANALYZE TABLE \`${table}\``);
    },
    baseline: () =>
      baselineChain(
        async (hash, sessionId) => {
          await baselinePool.query(
            `INSERT INTO ${BASELINE_TABLE} (hash, session_id) VALUES (?, ?)`,
            [hash, sessionId],
          );
        },
        async (spent, next) => {
          const connection = await baselinePool.getConnection();
          try {
            await connection.beginTransaction();
            const [updated] = await connection.query<mysql.ResultSetHeader>(
              `UPDATE ${BASELINE_TABLE} SET used_at = NOW(3) WHERE hash = ? AND used_at IS NULL`,
              [spent],
            );
            if (updated.affectedRows !== 1) {
              await connection.rollback();
              return false;
            }
            await connection.query(
              `INSERT INTO ${BASELINE_TABLE} (hash, session_id) SELECT ?, session_id FROM ${BASELINE_TABLE} WHERE hash = ?`,
              [next, spent],
            );
            await connection.commit();
            return true;
          } catch (error) {
            await connection.rollback();
            throw error;
          } finally {
            connection.release();
          }
        },
      ),
    // No UPDATE … RETURNING here: the conditional UPDATE by primary key, then (when it changed
    // the row) a read by primary key and the successor's hash, which only the winner knows.
    rowBaseline: () =>
      baselineChain(
        async (hash, sessionId) => {
          await baselinePool.query(
            `INSERT INTO ${ROW_TABLE} (id, subject, generation, current_hash, idle_expires_at, expires_at) VALUES (?, 'chain', 0, ?, NOW(3) + INTERVAL 7 DAY, NOW(3) + INTERVAL 30 DAY)`,
            [sessionId, hash],
          );
        },
        async (spent, next, sessionId) => {
          const [updated] = await baselinePool.execute<mysql.ResultSetHeader>(
            `UPDATE ${ROW_TABLE} SET generation = generation + 1, previous_hash = current_hash, current_hash = ?, rotated_at = NOW(3), idle_expires_at = LEAST(NOW(3) + INTERVAL 7 DAY, expires_at)
             WHERE id = ? AND current_hash = ? AND revoked_at IS NULL AND expires_at > NOW(3) AND idle_expires_at > NOW(3)`,
            [next, sessionId, spent],
          );
          if (updated.affectedRows !== 1) return false;
          const [rows] = await baselinePool.execute<mysql.RowDataPacket[]>(
            `SELECT subject, generation FROM ${ROW_TABLE} WHERE id = ? AND current_hash = ?`,
            [sessionId, next],
          );
          return rows.length === 1;
        },
      ),
    drizzle: async () => drizzle({ client: adapterPool }),
    prismaAdapter: async () => {
      // Prisma's MariaDB adapter brings its own driver (mariadb), with a pool of the same size.
      const { PrismaMariaDb } = await import("@prisma/adapter-mariadb");
      const parsed = new URL(target);
      return new PrismaMariaDb({
        host: parsed.hostname,
        port: Number(parsed.port || 3306),
        user: decodeURIComponent(parsed.username),
        password: decodeURIComponent(parsed.password),
        database: "tokens_bench",
        connectionLimit: poolSize,
      });
    },
    async close() {
      await Promise.all([setup.end(), adapterPool.end(), baselinePool.end()]);
    },
  };
}
