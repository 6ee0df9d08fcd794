import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PrismaLibSql } from "@prisma/adapter-libsql";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { describe } from "vitest";
import { prismaStore } from "../src/index.js";
import { PrismaClient as PostgresClient } from "./generated/postgresql/client/client.js";
import { PrismaClient as SqliteClient } from "./generated/sqlite/client/client.js";
import { migrationScripts } from "./support/databases.js";
import { itUpgrades } from "./support/upgrade.js";

describe("upgrade on PostgreSQL (PGlite)", () => {
  itUpgrades(async (migration) => {
    const db = new PGlite();
    for (const script of migrationScripts("postgresql", { before: migration }))
      await db.exec(script);
    const prisma = new PostgresClient({ adapter: new PrismaPGlite(db) });
    return {
      exec: async (sql) => void (await db.exec(sql)),
      tables: async () =>
        (
          await db.query<{ name: string }>(
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()",
          )
        ).rows.map((row) => row.name),
      literal: (date) => `'${date.toISOString()}'`,
      upgrade: migrationScripts("postgresql", { from: migration }),
      store: () => prismaStore(prisma),
      close: async () => {
        await prisma.$disconnect();
        await db.close();
      },
    };
  });
});

describe("upgrade on SQLite (libSQL)", () => {
  itUpgrades(async (migration) => {
    const dir = mkdtempSync(join(tmpdir(), "tokens-prisma-upgrade-"));
    const url = `file:${join(dir, "tokens.db")}`;
    const setup = await new PrismaLibSql({ url }).connect();
    for (const script of migrationScripts("sqlite", { before: migration }))
      await setup.executeScript(script);
    const prisma = new SqliteClient({ adapter: new PrismaLibSql({ url }) });
    return {
      exec: (sql) => setup.executeScript(sql),
      tables: async () =>
        (
          await setup.queryRaw({
            sql: "SELECT name FROM sqlite_master WHERE type = 'table'",
            args: [],
            argTypes: [],
          })
        ).rows.map((row) => String(row[0])),
      // As Prisma's SQLite adapters write instants by default.
      literal: (date) => `'${date.toISOString().replace("Z", "+00:00")}'`,
      upgrade: migrationScripts("sqlite", { from: migration }),
      store: () => prismaStore(prisma),
      close: async () => {
        await prisma.$disconnect();
        await setup.dispose();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
});
