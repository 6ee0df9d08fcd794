import { randomBytes } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { createClient } from "@libsql/client";
import {
  createTokens,
  generateSigningKey,
  type SessionRecord,
  sessionFields,
  type TokenStore,
} from "@tokens/core";
import { issuedElsewhere } from "@tokens/core/testing";
import { getTableColumns } from "drizzle-orm";
import { drizzle as drizzleLibsql } from "drizzle-orm/libsql";
import { migrate as migrateLibsql } from "drizzle-orm/libsql/migrator";
import { drizzle as drizzleMysql } from "drizzle-orm/mysql2";
import { migrate as migrateMysql } from "drizzle-orm/mysql2/migrator";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import mysql from "mysql2/promise";
import { afterAll, describe, expect, it } from "vitest";
import { drizzleStore, pgTokensSessions } from "../src/index.js";
import { describeWith, freshMysqlDatabase, migrationsFolder } from "./support/databases.js";

type Dialect = "pg" | "mysql" | "sqlite";

const folders: string[] = [];
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** The checked-in migrations of `dialect` up to `tag` (included): the schema a release shipped. */
function migrationsUpTo(dialect: Dialect, tag: string): string {
  const folder = mkdtempSync(join(tmpdir(), "tokens-drizzle-upgrade-"));
  folders.push(folder);
  cpSync(migrationsFolder(dialect), folder, { recursive: true });
  const journalFile = join(folder, "meta/_journal.json");
  const journal = JSON.parse(readFileSync(journalFile, "utf8")) as {
    entries: Array<{ tag: string }>;
  };
  const last = journal.entries.findIndex((entry) => entry.tag === tag);
  journal.entries = journal.entries.slice(0, last + 1);
  writeFileSync(journalFile, JSON.stringify(journal));
  return folder;
}

/** A database of one dialect, seen through raw SQL and the store. */
interface Database {
  migrate(folder: string): Promise<void>;
  /** Runs `text`, its parameters written `?`, and resolves the rows it returns. */
  query(text: string, params?: unknown[]): Promise<Array<Record<string, unknown>>>;
  /** An instant as the dialect's columns hold it. */
  instant(at: Date): unknown;
  tableExists(name: string): Promise<boolean>;
  indexes(): Promise<string[]>;
  store(): TokenStore;
  close(): Promise<void>;
}

const HOUR = 3_600_000;

/** What 0.1 wrote: a session of generation 1 and its two refresh-token rows. */
async function insertOldSession(db: Database, id: string, subject: string, now: Date) {
  const at = (offset: number) => db.instant(new Date(now.getTime() + offset));
  await db.query(
    `INSERT INTO tokens_sessions (id, subject, client_id, generation, current_hash, previous_hash,
       sealed_successor, rotated_at, created_at, last_used_at, idle_expires_at, expires_at,
       revoked_at, revoke_reason, client, binding_key, claims)
     VALUES (?, ?, 'default', 1, ?, ?, 'sealed', ?, ?, ?, ?, ?, NULL, NULL, NULL, NULL, NULL)`,
    [
      id,
      subject,
      `${id}-h1`,
      `${id}-h0`,
      at(-HOUR),
      at(-2 * HOUR),
      at(-HOUR),
      at(HOUR),
      at(24 * HOUR),
    ],
  );
  for (const generation of [0, 1]) {
    await db.query(
      "INSERT INTO tokens_refresh_tokens (hash, session_id, generation, created_at) VALUES (?, ?, ?, ?)",
      [`${id}-h${generation}`, id, generation, at(-2 * HOUR)],
    );
  }
}

/**
 * What the release before DPoP binding (migrations up to 0002) wrote for `session`: every column
 * but `dpop_jkt`, which its table did not have.
 */
async function insertSessionBeforeDpop(db: Database, session: SessionRecord) {
  const { dpopJkt: _notYet, ...fields } = sessionFields(session);
  // The column names are the same in every dialect's table.
  const columns = getTableColumns(pgTokensSessions);
  const names = Object.keys(fields).map((field) => columns[field as keyof typeof columns].name);
  const values = Object.values(fields).map((value) =>
    value instanceof Date
      ? db.instant(value)
      : value !== null && typeof value === "object"
        ? JSON.stringify(value)
        : value,
  );
  await db.query(
    `INSERT INTO tokens_sessions (${names.join(", ")}) VALUES (${names.map(() => "?").join(", ")})`,
    values,
  );
}

/** Numbered placeholders for PostgreSQL. */
const numbered = (text: string) => {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
};

async function pglite(): Promise<Database> {
  const client = new PGlite();
  const db = drizzlePglite({ client });
  return {
    migrate: (folder) => migratePglite(db, { migrationsFolder: folder }),
    query: async (text, params) => (await client.query(numbered(text), params)).rows as never,
    instant: (at) => at.toISOString(),
    tableExists: async (name) =>
      (await client.query<{ t: string | null }>("SELECT to_regclass($1)::text AS t", [name]))
        .rows[0]?.t != null,
    indexes: async () =>
      (
        await client.query<{ name: string }>(
          "SELECT indexname AS name FROM pg_indexes WHERE tablename = 'tokens_sessions' ORDER BY 1",
        )
      ).rows.map((row) => row.name),
    store: () => drizzleStore(db),
    close: () => client.close(),
  };
}

async function libsql(): Promise<Database> {
  const client = createClient({ url: ":memory:" });
  const db = drizzleLibsql({ client });
  const query = async (text: string, params: unknown[] = []) =>
    (await client.execute({ sql: text, args: params as never })).rows as unknown as Array<
      Record<string, unknown>
    >;
  return {
    migrate: (folder) => migrateLibsql(db, { migrationsFolder: folder }),
    query,
    instant: (at) => at.getTime(),
    tableExists: async (name) =>
      (await query("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", [name]))
        .length === 1,
    indexes: async () =>
      (
        (await query(
          "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tokens_sessions' ORDER BY 1",
        )) as Array<{ name: string }>
      ).map((row) => row.name),
    store: () => drizzleStore(db),
    close: async () => client.close(),
  };
}

async function mariadb(): Promise<Database> {
  const url = await freshMysqlDatabase(process.env.MYSQL_URL ?? "", "tokens_drizzle_upgrade");
  const pool = mysql.createPool({ uri: url, connectionLimit: 2 });
  const db = drizzleMysql({ client: pool });
  const query = async (text: string, params: unknown[] = []) =>
    (await pool.query(text, params))[0] as never;
  return {
    migrate: (folder) => migrateMysql(db, { migrationsFolder: folder }),
    query,
    // DATETIME(3) in UTC, as Drizzle writes it.
    instant: (at) => at.toISOString().replace("T", " ").replace("Z", ""),
    tableExists: async (name) =>
      (
        (await query(
          "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?",
          [name],
        )) as unknown[]
      ).length === 1,
    indexes: async () =>
      (
        (await query(
          `SELECT DISTINCT index_name AS name FROM information_schema.statistics
           WHERE table_schema = DATABASE() AND table_name = 'tokens_sessions' ORDER BY 1`,
        )) as Array<{ name: string }>
      ).map((row) => row.name),
    store: () => drizzleStore(db),
    close: () => pool.end(),
  };
}

/**
 * Migration 0002 on a database that 0.1 (migrations 0000 and 0001) has been using, and 0003 on
 * one that the release before DPoP binding (up to 0002) has been using.
 */
function upgradeSuite(dialect: Dialect, open: () => Promise<Database>, expectedIndexes: string[]) {
  it("0003: a session of before the DPoP binding keeps refreshing after it, unbound", async () => {
    const db = await open();
    try {
      await db.migrate(migrationsUpTo(dialect, "0002_one_row_sessions"));
      const keys = [await generateSigningKey("EdDSA")];
      const config = { issuer: "https://auth.example.test", audience: "api", keys };
      // The release before wrote the session.
      const client = { deviceId: "phone" };
      const { issued, session } = await issuedElsewhere(
        { ...config, store: db.store() },
        { subject: "dave", client },
      );
      await insertSessionBeforeDpop(db, session);

      await db.migrate(migrationsFolder(dialect));
      expect(await db.indexes()).toEqual(expectedIndexes);
      const store = db.store();
      expect(await store.getSession(session.id)).toMatchObject({
        subject: "dave",
        client,
        dpopJkt: null,
      });
      const tokens = createTokens({ ...config, store });
      const refreshed = await tokens.refresh(issued.refresh_token, { client });
      const again = await tokens.refresh(refreshed.refresh_token, { client });
      expect(again.refresh_token).not.toBe(refreshed.refresh_token);
      expect(await store.getSession(session.id)).toMatchObject({ generation: 2, dpopJkt: null });
    } finally {
      await db.close();
    }
  });

  it("revokes the sessions of before the upgrade, drops the token table, and new sessions refresh", async () => {
    const db = await open();
    try {
      await db.migrate(migrationsUpTo(dialect, "0001_binding_key"));
      const now = new Date();
      await insertOldSession(db, "old-session", "alice", now);
      expect(await db.tableExists("tokens_refresh_tokens")).toBe(true);

      await db.migrate(migrationsFolder(dialect));
      expect(await db.tableExists("tokens_refresh_tokens")).toBe(false);
      expect(await db.indexes()).toEqual(expectedIndexes);

      const store = db.store();
      const old = (await store.getSession("old-session")) as SessionRecord;
      expect(old).toMatchObject({ revokeReason: "token_format_upgrade", generation: 1 });
      const revokedAt = (old.revokedAt as Date).getTime();
      expect(Math.abs(revokedAt - Date.now())).toBeLessThan(60_000);
      // Revoked now: purge_after is no later than that, so purge finds the session.
      expect(old.purgeAfter.getTime()).toBeLessThanOrEqual(revokedAt);
      expect(await store.listSessions("alice", new Date())).toEqual([]);
      expect(await store.purge(new Date(revokedAt + 1), 10)).toBe(1);

      const tokens = createTokens({
        issuer: "https://auth.example.test",
        audience: "api",
        keys: [await generateSigningKey("EdDSA")],
        store,
      });
      // A token of the old format fails cleanly: the user signs in again.
      const oldToken = `tokens_rt_${randomBytes(32).toString("base64url")}`;
      await expect(tokens.refresh(oldToken)).rejects.toMatchObject({
        code: "invalid_grant",
        reason: "malformed",
      });
      const issued = await tokens.issue({ subject: "alice" });
      const refreshed = await tokens.refresh(issued.refresh_token);
      const again = await tokens.refresh(refreshed.refresh_token);
      expect(again.refresh_token).not.toBe(refreshed.refresh_token);
      expect(await store.listSessions("alice", new Date())).toHaveLength(1);
    } finally {
      await db.close();
    }
  });
}

describe("upgrade from 0.1: PostgreSQL (PGlite)", () => {
  upgradeSuite("pg", pglite, [
    "tokens_sessions_pkey",
    "tokens_sessions_purge_after_idx",
    "tokens_sessions_subject_idx",
  ]);

  it("leaves the table a fillfactor of 80, so refreshes are heap-only updates", async () => {
    const db = await pglite();
    try {
      await db.migrate(migrationsFolder("pg"));
      expect(
        await db.query("SELECT reloptions FROM pg_class WHERE relname = 'tokens_sessions'"),
      ).toEqual([{ reloptions: ["fillfactor=80"] }]);
    } finally {
      await db.close();
    }
  });
});

describe("upgrade from 0.1: SQLite (libsql)", () => {
  upgradeSuite("sqlite", libsql, [
    "sqlite_autoindex_tokens_sessions_1",
    "tokens_sessions_purge_after_idx",
    "tokens_sessions_subject_idx",
  ]);
});

describeWith("MYSQL_URL", "MySQL/MariaDB upgrade")("upgrade from 0.1: MySQL/MariaDB", () => {
  upgradeSuite("mysql", mariadb, [
    "PRIMARY",
    "tokens_sessions_purge_after_idx",
    "tokens_sessions_subject_idx",
  ]);
});
