import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { createClient } from "@libsql/client";
import type { SessionRecord } from "@tokens/core";
import {
  generateDrizzleJson,
  generateMigration,
  generateMySQLDrizzleJson,
  generateMySQLMigration,
  generateSQLiteDrizzleJson,
  generateSQLiteMigration,
} from "drizzle-kit/api";
import { sql } from "drizzle-orm";
import { drizzle as drizzleLibsql } from "drizzle-orm/libsql";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { describe, expect, it } from "vitest";
import {
  drizzleStore,
  mysqlTokensSessions,
  pgTokensSessions,
  pgTokensTables,
  sqliteTokensSessions,
  sqliteTokensTables,
} from "../src/index.js";
import { migrationsFolder } from "./support/databases.js";

/** The last snapshot drizzle-kit wrote into a checked-in migrations folder. */
function latestSnapshot(dialect: "pg" | "mysql" | "sqlite") {
  const folder = migrationsFolder(dialect);
  const journal = JSON.parse(readFileSync(join(folder, "meta/_journal.json"), "utf8")) as {
    entries: Array<{ idx: number }>;
  };
  const last = journal.entries.at(-1)?.idx ?? 0;
  const file = join(folder, `meta/${String(last).padStart(4, "0")}_snapshot.json`);
  return JSON.parse(readFileSync(file, "utf8"));
}

const names = { sessions: "auth_sessions" };

function session(id: string, subject: string): SessionRecord {
  const now = new Date();
  return {
    id,
    subject,
    clientId: "web",
    generation: 0,
    currentHash: `${id}-h0`,
    previousHash: null,
    sealedSuccessor: null,
    rotatedAt: null,
    createdAt: now,
    lastUsedAt: now,
    idleExpiresAt: new Date(now.getTime() + 60_000),
    expiresAt: new Date(now.getTime() + 120_000),
    purgeAfter: new Date(now.getTime() + 60_000),
    revokedAt: null,
    revokeReason: null,
    client: null,
    bindingKey: null,
    claims: null,
    dpopJkt: null,
  };
}

describe("checked-in migrations", () => {
  // If the table definitions change, `drizzle-kit generate` must be run again: these fail until
  // the migrations folder describes exactly the tables the package exports.
  it("PostgreSQL: match the exported tables (drizzle-kit finds nothing to generate)", async () => {
    const current = generateDrizzleJson({ pgTokensSessions });
    expect(await generateMigration(latestSnapshot("pg"), current)).toEqual([]);
  });

  it("MySQL/MariaDB: match the exported tables", async () => {
    const current = await generateMySQLDrizzleJson({
      mysqlTokensSessions,
    });
    expect(await generateMySQLMigration(latestSnapshot("mysql"), current)).toEqual([]);
  });

  it("SQLite: match the exported tables", async () => {
    const current = await generateSQLiteDrizzleJson({
      sqliteTokensSessions,
    });
    expect(await generateSQLiteMigration(latestSnapshot("sqlite"), current)).toEqual([]);
  });
});

describe("custom table names", () => {
  it("PostgreSQL: drizzle-kit creates them and the store uses them, not the default tables", async () => {
    const tables = pgTokensTables(names);
    const statements = await generateMigration(
      generateDrizzleJson({}),
      generateDrizzleJson(tables),
    );
    expect(statements.join("\n")).toContain('"auth_sessions_purge_after_idx"');
    const client = new PGlite();
    const db = drizzlePglite({ client });
    for (const statement of statements) await db.execute(sql.raw(statement));

    const store = drizzleStore(db, { tables });
    await store.createSession(session("pg-custom", "alice"));
    expect((await store.getSession("pg-custom"))?.subject).toBe("alice");
    const { rows } = await db.execute<{ n: number }>(
      sql`select count(*)::int as n from auth_sessions`,
    );
    expect(rows[0]?.n).toBe(1);
    // The default tables were never created: a store on them fails, proving which tables are used.
    await expect(drizzleStore(db).getSession("pg-custom")).rejects.toMatchObject({
      name: "StoreUnavailableError",
    });
    await client.close();
  });

  it("SQLite: drizzle-kit creates them and the store uses them", async () => {
    const tables = sqliteTokensTables(names);
    const statements = await generateSQLiteMigration(
      await generateSQLiteDrizzleJson({}),
      await generateSQLiteDrizzleJson(tables),
    );
    const client = createClient({ url: ":memory:" });
    const db = drizzleLibsql({ client });
    for (const statement of statements) await db.run(sql.raw(statement));

    const store = drizzleStore(db, { tables });
    await store.createSession(session("sqlite-custom", "bob"));
    expect(await store.revokeSubject("bob", new Date(), "test")).toBe(1);
    expect(await db.all(sql`select id, revoke_reason from auth_sessions`)).toEqual([
      { id: "sqlite-custom", revoke_reason: "test" },
    ]);
    client.close();
  });
});

describe("drizzleStore options", () => {
  const client = createClient({ url: ":memory:" });
  const sqliteDb = drizzleLibsql({ client });

  it("rejects an object that is not a Drizzle database with ConfigurationError", () => {
    expect(() => drizzleStore({} as never)).toThrow(
      expect.objectContaining({ name: "ConfigurationError", reason: "invalid_option" }),
    );
  });

  it("rejects tables of another dialect than the database", () => {
    expect(() => drizzleStore(sqliteDb, { tables: pgTokensTables() as never })).toThrow(
      expect.objectContaining({ name: "ConfigurationError" }),
    );
  });

  it("rejects a dialect that contradicts the database", () => {
    expect(() => drizzleStore(sqliteDb, { dialect: "postgresql" as never })).toThrow(
      /dialect "postgresql" was given but the database is sqlite/,
    );
  });
});

describe("failures", () => {
  it("a driver error becomes StoreUnavailableError whose cause is the driver's error and whose message names no hash", async () => {
    const client = createClient({ url: ":memory:" });
    const db = drizzleLibsql({ client });
    // No tables at all: every statement fails in the driver.
    const store = drizzleStore(db);
    const error = await store.getSession("secret-looking-id").catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      name: "StoreUnavailableError",
      code: "temporarily_unavailable",
      reason: "store_unavailable",
    });
    const { message, cause } = error as Error;
    expect(message).not.toContain("secret-looking-id");
    // The driver's own error, not Drizzle's wrapper whose message lists every parameter.
    expect(cause).toMatchObject({ code: "SQLITE_ERROR" });
    expect(String((cause as Error).message)).not.toContain("secret-looking-id");
    client.close();
  });
});
