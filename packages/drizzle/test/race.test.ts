import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createClient } from "@libsql/client";
import { createTokens, generateSigningKey, type TokenStore } from "@tokens/core";
import { drizzle as drizzleLibsql } from "drizzle-orm/libsql";
import { migrate as migrateLibsql } from "drizzle-orm/libsql/migrator";
import { drizzle as drizzleMysql } from "drizzle-orm/mysql2";
import { migrate as migrateMysql } from "drizzle-orm/mysql2/migrator";
import { drizzle as drizzleNodePg } from "drizzle-orm/node-postgres";
import { migrate as migrateNodePg } from "drizzle-orm/node-postgres/migrator";
import mysql from "mysql2/promise";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { drizzleStore } from "../src/index.js";
import {
  describeWith,
  freshMysqlDatabase,
  freshPostgresDatabase,
  migrationsFolder,
} from "./support/databases.js";

const RACERS = 200;
const ROUNDS = 20;
/** Independent pools over the same database, as four app processes would have. */
const PROCESSES = 4;

/** The database under the race: its stores (one per process) and what it holds. */
interface Racetrack {
  stores: TokenStore[];
  /** The names of the tables in the database. */
  tables(): Promise<string[]>;
  /** How many rows the sessions table holds in all. */
  rows(): Promise<number>;
  close(): Promise<void>;
}

/**
 * 200 refreshes of one token at once, spread over four processes' pools, 20 times: each time
 * exactly one rotation (the session at generation 1, every caller answered with the same
 * successor — the winner's, the others through the grace window), no error reaching a caller,
 * and nothing in the database but the one session row per round.
 */
function raceSuite(open: () => Promise<Racetrack>) {
  it(`${RACERS} concurrent refreshes of one token through ${PROCESSES} pools, ${ROUNDS} times: one rotation each time`, async () => {
    const track = await open();
    try {
      const keys = [await generateSigningKey("EdDSA")];
      const instances = track.stores.map((store) =>
        createTokens({ issuer: "https://auth.example.test", audience: "api", keys, store }),
      );
      const [first] = instances as [(typeof instances)[number]];
      for (let round = 0; round < ROUNDS; round++) {
        const subject = `racer-${round}`;
        const issued = await first.issue({ subject });
        const results = await Promise.allSettled(
          Array.from({ length: RACERS }, (_, i) =>
            (instances[i % instances.length] as typeof first).refresh(issued.refresh_token),
          ),
        );
        const failures = results.filter((result) => result.status === "rejected");
        expect(failures.map((failure) => String(failure.reason))).toEqual([]);
        const successors = new Set(
          results.map((result) =>
            result.status === "fulfilled" ? result.value.refresh_token : "",
          ),
        );
        expect(successors.size, "distinct refresh tokens handed out").toBe(1);
        const [session, ...others] = await first.listSessions(subject);
        expect(others).toEqual([]);
        expect(await track.stores[0]?.getSession(session?.id as string)).toMatchObject({
          generation: 1,
          revokedAt: null,
        });
        expect(await track.rows()).toBe(round + 1);
      }
      expect((await track.tables()).sort()).toEqual(["__drizzle_migrations", "tokens_sessions"]);
    } finally {
      await track.close();
    }
  });
}

describeWith("MYSQL_URL", "MySQL/MariaDB race")("refresh race: MySQL/MariaDB (mysql2)", () => {
  raceSuite(async () => {
    const url = await freshMysqlDatabase(process.env.MYSQL_URL ?? "", "tokens_drizzle_race");
    const pools = Array.from({ length: PROCESSES }, () =>
      mysql.createPool({ uri: url, connectionLimit: 10 }),
    );
    const [main] = pools as [mysql.Pool];
    await migrateMysql(drizzleMysql({ client: main }), {
      migrationsFolder: migrationsFolder("mysql"),
    });
    const query = async (text: string) =>
      (await main.query(text))[0] as Array<Record<string, unknown>>;
    return {
      stores: pools.map((client) => drizzleStore(drizzleMysql({ client }))),
      tables: async () =>
        (
          await query(
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY 1",
          )
        ).map((row) => String(row.name)),
      rows: async () => Number((await query("SELECT count(*) AS n FROM tokens_sessions"))[0]?.n),
      close: async () => {
        await Promise.all(pools.map((pool) => pool.end()));
      },
    };
  });
});

describeWith("POSTGRES_URL", "PostgreSQL race")("refresh race: PostgreSQL (node-postgres)", () => {
  raceSuite(async () => {
    const url = await freshPostgresDatabase(process.env.POSTGRES_URL ?? "", "tokens_drizzle_race");
    const pools = Array.from(
      { length: PROCESSES },
      () => new pg.Pool({ connectionString: url, max: 10 }),
    );
    const [main] = pools as [pg.Pool];
    await migrateNodePg(drizzleNodePg({ client: main }), {
      migrationsFolder: migrationsFolder("pg"),
    });
    return {
      stores: pools.map((client) => drizzleStore(drizzleNodePg({ client }))),
      // drizzle-orm keeps its journal in a schema of its own, "drizzle".
      tables: async () =>
        (
          await main.query(
            "SELECT tablename AS name FROM pg_tables WHERE schemaname IN ('public', 'drizzle') ORDER BY 1",
          )
        ).rows.map((row: { name: string }) => row.name),
      rows: async () =>
        (await main.query("SELECT count(*)::int AS n FROM tokens_sessions")).rows[0].n as number,
      close: async () => {
        await Promise.all(pools.map((pool) => pool.end()));
      },
    };
  });
});

describe("refresh race: SQLite (libsql, one file)", () => {
  raceSuite(async () => {
    const dir = mkdtempSync(join(tmpdir(), "tokens-drizzle-race-"));
    const url = pathToFileURL(join(dir, "tokens.db")).href;
    const clients = Array.from({ length: PROCESSES }, () => createClient({ url }));
    const [main] = clients as [ReturnType<typeof createClient>];
    await migrateLibsql(drizzleLibsql({ client: main }), {
      migrationsFolder: migrationsFolder("sqlite"),
    });
    return {
      stores: clients.map((client) => drizzleStore(drizzleLibsql({ client }))),
      tables: async () =>
        (
          await main.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1",
          )
        ).rows.map((row) => String(row.name)),
      rows: async () =>
        Number((await main.execute("SELECT count(*) AS n FROM tokens_sessions")).rows[0]?.n),
      close: async () => {
        for (const client of clients) client.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
});
