import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { repoRoot } from "../lib/context.js";
import type { WorkerFactory } from "../lib/measure.js";
import { rawAccessTokenSigner, rawHash, rawRefreshToken } from "../lib/raw-jwt.js";

export type Dialect = "postgresql" | "mysql" | "sqlite";
export type AdapterName = "drizzle" | "prisma";

/** A database the adapters are measured on, with the hand-written rotation as baseline. */
export interface BenchDatabase {
  label: string;
  dialect: Dialect;
  /** The server's process name, whose CPU time is measured per refresh; none when in-process. */
  serverProcess?: string;
  /** Drops and creates the adapter's tables (its own migration) and the baseline table. */
  reset(migration: string[]): Promise<void>;
  /** Adds bulk sessions `from + 1 … to`, and as many rows to each baseline table. */
  fill(from: number, to: number): Promise<void>;
  /** The hand-written rotation (spend the token row, insert the successor's): one chain per worker. */
  baseline(): WorkerFactory;
  /**
   * The hand-written single-row rotation with the store's guarantees: one compare-and-set
   * `UPDATE` of the session row by primary key (live hash, not revoked, not expired), returning
   * what the access token needs. The least a refresh can cost on this database.
   */
  rowBaseline(): WorkerFactory;
  /** What the adapter's factory takes: a Drizzle database, or a Prisma driver adapter. */
  drizzle(): Promise<unknown>;
  prismaAdapter(): Promise<unknown>;
  close(): Promise<void>;
}

/** The baseline's table: a token row per refresh token, spent when `used_at` is set. */
export const BASELINE_TABLE = "bench_rotation";

/** The single-row baseline's table: one row per session, rotated in place. */
export const ROW_TABLE = "bench_session";

/** The tables the benchmark itself creates beside the adapter's. */
export const BASELINE_TABLES = [BASELINE_TABLE, ROW_TABLE];

/**
 * A hand-written rotation chain: hash the presented token, let `rotate` spend it and install
 * the successor, sign an EdDSA access token with one raw `crypto.sign`.
 */
export function baselineChain(
  insertFirst: (hash: string, sessionId: string) => Promise<void>,
  rotate: (spentHash: string, nextHash: string, sessionId: string) => Promise<boolean>,
): WorkerFactory {
  const sign = rawAccessTokenSigner();
  return async (worker) => {
    let token = rawRefreshToken();
    const sessionId = `chain-${randomUUID()}`;
    await insertFirst(rawHash(token), sessionId);
    return async () => {
      const next = rawRefreshToken();
      if (!(await rotate(rawHash(token), rawHash(next), sessionId))) {
        throw new Error("hand-written rotation lost its chain");
      }
      sign(`user-${worker}`, sessionId);
      token = next;
    };
  };
}

/** The statements of an adapter's shipped migrations for a dialect, in order. */
export function migrationStatements(adapter: AdapterName, dialect: Dialect): string[] {
  const dir =
    adapter === "drizzle"
      ? `${repoRoot}packages/drizzle/migrations/${dialect === "postgresql" ? "pg" : dialect}`
      : `${repoRoot}packages/prisma/migrations/${dialect}`;
  const files =
    adapter === "drizzle"
      ? readdirSync(dir)
          .filter((f) => f.endsWith(".sql"))
          .sort()
          .map((f) => `${dir}/${f}`)
      : readdirSync(dir, { withFileTypes: true })
          .filter((e) => e.isDirectory())
          .map((e) => e.name)
          .sort()
          .map((name) => `${dir}/${name}/migration.sql`);
  return files.flatMap((file) =>
    readFileSync(file, "utf8")
      .split(adapter === "drizzle" ? "--> statement-breakpoint" : /;\s*$/m)
      .map((sql) =>
        sql
          .split("\n")
          .filter((line) => !line.trim().startsWith("--"))
          .join("\n")
          .trim(),
      )
      .filter((sql) => sql.length > 0),
  );
}

/** Database name of a URL replaced, so the benchmark never touches the tests' databases. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
