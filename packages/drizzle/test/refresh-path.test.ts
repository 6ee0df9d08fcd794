import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createClient } from "@libsql/client";
import { createTokens, generateSigningKey, type SigningKey, type TokenStore } from "@tokens/core";
import { rotationOf, sessionRecord } from "@tokens/core/testing";
import { drizzle as drizzleLibsql } from "drizzle-orm/libsql";
import { migrate as migrateLibsql } from "drizzle-orm/libsql/migrator";
import { drizzle as drizzleMysql } from "drizzle-orm/mysql2";
import { migrate as migrateMysql } from "drizzle-orm/mysql2/migrator";
import { drizzle as drizzleNodePg } from "drizzle-orm/node-postgres";
import { migrate as migrateNodePg } from "drizzle-orm/node-postgres/migrator";
import mysql from "mysql2/promise";
import pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import { drizzleStore } from "../src/index.js";
import {
  describeWith,
  freshMysqlDatabase,
  freshPostgresDatabase,
  migrationsFolder,
} from "./support/databases.js";

let key: SigningKey;
beforeAll(async () => {
  key = await generateSigningKey("EdDSA");
});

const tokensOver = (store: TokenStore) =>
  createTokens({ issuer: "https://auth.example.test", audience: "api", keys: [key], store });

/**
 * Replaces `methods` of `target` with ones that record the SQL text of each call before
 * running it: what the store sends the driver, statement by statement.
 */
function recordStatements<T extends object>(target: T, methods: Array<keyof T>): string[] {
  const sent: string[] = [];
  for (const method of methods) {
    const original = (target[method] as (...args: unknown[]) => unknown).bind(target);
    (target as Record<keyof T, unknown>)[method] = (query: unknown, ...rest: unknown[]) => {
      sent.push(
        typeof query === "string"
          ? query
          : String(
              (query as { text?: string; sql?: string }).text ?? (query as { sql?: string }).sql,
            ),
      );
      return original(query, ...rest);
    };
  }
  return sent;
}

/** The statements one refresh (after a first one, which prepares) sends, as their first words. */
async function statementsOfARefresh(store: TokenStore, sent: string[]): Promise<string[]> {
  const tokens = tokensOver(store);
  const issued = await tokens.issue({ subject: "counted" });
  const first = await tokens.refresh(issued.refresh_token);
  sent.length = 0;
  await tokens.refresh(first.refresh_token);
  return sent.map((text) => text.trim().split(/\s+/)[0]?.toLowerCase() ?? "");
}

/**
 * Refreshes of several sessions at once: `sent` (what the store sends, recorded from now) holds
 * one entry for them all, each caller gets its own session's tokens, and each successor is the
 * live token of its own session.
 */
async function refreshTogether(tokens: ReturnType<typeof tokensOver>, sent: string[]) {
  const subjects = Array.from({ length: 6 }, (_, i) => `together-${i}`);
  const issued = await Promise.all(subjects.map((subject) => tokens.issue({ subject })));
  sent.length = 0;
  const refreshed = await Promise.all(issued.map((pair) => tokens.refresh(pair.refresh_token)));
  expect(sent).toHaveLength(1);
  for (const [i, pair] of refreshed.entries()) {
    expect((await tokens.verifyAccessToken(pair.access_token)).sub).toBe(subjects[i]);
  }
  const again = await Promise.all(refreshed.map((pair) => tokens.refresh(pair.refresh_token)));
  expect(new Set(again.map((pair) => pair.refresh_token)).size).toBe(subjects.length);
}

describeWith("POSTGRES_URL", "PostgreSQL refresh path")("PostgreSQL refresh path", () => {
  let url = "";
  beforeAll(async () => {
    url = await freshPostgresDatabase(process.env.POSTGRES_URL ?? "", "tokens_drizzle_path");
    const setup = new pg.Pool({ connectionString: url, max: 1 });
    await migrateNodePg(drizzleNodePg({ client: setup }), {
      migrationsFolder: migrationsFolder("pg"),
    });
    await setup.end();
  });

  it("a refresh sends one statement: the UPDATE … RETURNING", async () => {
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    try {
      const sent = recordStatements(pool, ["query"]);
      expect(
        await statementsOfARefresh(drizzleStore(drizzleNodePg({ client: pool })), sent),
      ).toEqual(["update"]);
    } finally {
      await pool.end();
    }
  });

  it("refreshes that arrive together go as one statement, each its own rotation", async () => {
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    try {
      const sent = recordStatements(pool, ["query"]);
      await refreshTogether(tokensOver(drizzleStore(drizzleNodePg({ client: pool }))), sent);
    } finally {
      await pool.end();
    }
  });

  it("a rotation the server refuses fails alone; the others of its batch rotate", async () => {
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    try {
      const store = drizzleStore(drizzleNodePg({ client: pool }));
      const [good, bad] = [sessionRecord(), sessionRecord()];
      await store.createSession(good);
      await store.createSession(bad);
      const sent = recordStatements(pool, ["query"]);
      // A generation past PostgreSQL's integer range: the whole statement is refused (22003).
      const outOfRange = rotationOf(bad, Date.now(), { generation: 2 ** 31 });
      const [rotated, refused] = await Promise.allSettled([
        store.rotate(rotationOf(good, Date.now())),
        store.rotate(outOfRange),
      ]);
      expect(rotated).toMatchObject({ status: "fulfilled", value: { generation: 1 } });
      expect(refused).toMatchObject({
        status: "rejected",
        reason: { reason: "store_unavailable" },
      });
      expect(sent).toHaveLength(3); // the batch, then each alone
      expect(await store.getSession(bad.id)).toMatchObject({ generation: 0 });
    } finally {
      await pool.end();
    }
  });

  it("nearly every refresh is a heap-only (HOT) update: it writes no index", async () => {
    // One connection, so that its statistics can be flushed on demand.
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    /** The table's update counters, once the store's connection has reported its own. */
    const counters = async (atLeast: number) => {
      await pool.query("SELECT pg_stat_force_next_flush()");
      // The flush happens when that connection goes idle: wait for the counters to show it.
      for (let attempt = 0; ; attempt++) {
        await admin.query("SELECT pg_stat_clear_snapshot()");
        const { rows } = await admin.query(
          "SELECT n_tup_upd::int AS updates, n_tup_hot_upd::int AS hot FROM pg_stat_user_tables WHERE relname = 'tokens_sessions'",
        );
        const row = rows[0] as { updates: number; hot: number };
        if (row.updates >= atLeast || attempt === 50) return row;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    try {
      const tokens = tokensOver(drizzleStore(drizzleNodePg({ client: pool })));
      const SESSIONS = 20;
      const REFRESHES = 10;
      let live = await Promise.all(
        Array.from(
          { length: SESSIONS },
          async (_, i) => (await tokens.issue({ subject: `hot-${i}` })).refresh_token,
        ),
      );
      const before = await counters(0);
      // One refresh at a time: the shape is what is measured here. (Rotations that share a
      // statement and a page share its free space too; see the storage guide.)
      for (let round = 0; round < REFRESHES; round++) {
        for (const [i, token] of live.entries())
          live[i] = (await tokens.refresh(token)).refresh_token;
      }
      const rotations = SESSIONS * REFRESHES;
      const after = await counters(before.updates + rotations);
      const updates = after.updates - before.updates;
      const hot = after.hot - before.hot;
      console.info(`[@tokens/drizzle] PostgreSQL: ${hot} of ${updates} rotations were HOT updates`);
      expect(updates).toBe(rotations);
      expect(hot / updates).toBeGreaterThanOrEqual(0.9);

      // The control: with an index on a column a refresh changes (0.1 had one on current_hash),
      // the same refreshes are no HOT update at all, so the counters measure what they seem to.
      await admin.query(
        "CREATE INDEX tokens_sessions_control_idx ON tokens_sessions (current_hash)",
      );
      try {
        live = await Promise.all(
          live.map(async (token) => (await tokens.refresh(token)).refresh_token),
        );
        const control = await counters(after.updates + SESSIONS);
        expect(control.updates - after.updates).toBe(SESSIONS);
        expect(control.hot - after.hot).toBe(0);
      } finally {
        await admin.query("DROP INDEX tokens_sessions_control_idx");
      }
    } finally {
      await admin.end();
      await pool.end();
    }
  });
});

describeWith("MYSQL_URL", "MySQL/MariaDB refresh path")("MySQL/MariaDB refresh path", () => {
  it("a refresh sends two statements: the UPDATE by primary key, then the read of the row", async () => {
    const url = await freshMysqlDatabase(process.env.MYSQL_URL ?? "", "tokens_drizzle_path");
    const pool = mysql.createPool({ uri: url, connectionLimit: 2 });
    try {
      await migrateMysql(drizzleMysql({ client: pool }), {
        migrationsFolder: migrationsFolder("mysql"),
      });
      const sent = recordStatements(pool, ["query", "execute"]);
      expect(
        await statementsOfARefresh(drizzleStore(drizzleMysql({ client: pool })), sent),
      ).toEqual(["update", "select"]);
    } finally {
      await pool.end();
    }
  });
});

describe("SQLite refresh path", () => {
  /** A fresh libsql database file with the shipped migrations, for `run`. */
  async function withLibsql(run: (client: ReturnType<typeof createClient>) => Promise<void>) {
    const dir = mkdtempSync(join(tmpdir(), "tokens-drizzle-path-"));
    const client = createClient({ url: pathToFileURL(join(dir, "tokens.db")).href });
    try {
      await migrateLibsql(drizzleLibsql({ client }), {
        migrationsFolder: migrationsFolder("sqlite"),
      });
      await run(client);
    } finally {
      client.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it("refreshes that arrive together share one write transaction, each its own rotation", () =>
    withLibsql(async (client) => {
      const batches = recordStatements(client, ["batch"]);
      await refreshTogether(tokensOver(drizzleStore(drizzleLibsql({ client }))), batches);
    }));

  it("a rotation SQLite refuses fails alone; the others of its transaction rotate", () =>
    withLibsql(async (client) => {
      const store = drizzleStore(drizzleLibsql({ client }));
      const [good, bad] = [sessionRecord(), sessionRecord()];
      await store.createSession(good);
      await store.createSession(bad);
      // No successor hash: the NOT NULL constraint refuses the statement, and its transaction.
      const refusedByTheSchema = { ...rotationOf(bad, Date.now()), successorHash: null as never };
      const [rotated, refused] = await Promise.allSettled([
        store.rotate(rotationOf(good, Date.now())),
        store.rotate(refusedByTheSchema),
      ]);
      expect(rotated).toMatchObject({ status: "fulfilled", value: { generation: 1 } });
      expect(refused).toMatchObject({
        status: "rejected",
        reason: { reason: "store_unavailable" },
      });
      expect(await store.getSession(bad.id)).toMatchObject({ generation: 0 });
    }));

  it("a refresh sends one statement: the UPDATE … RETURNING", () =>
    withLibsql(async (client) => {
      const sent = recordStatements(client, ["execute", "batch"]);
      expect(await statementsOfARefresh(drizzleStore(drizzleLibsql({ client })), sent)).toEqual([
        "update",
      ]);
    }));
});
