import { PrismaMariaDb } from "@prisma/adapter-mariadb";
import { createTokens, generateSigningKey, type TokensEvent } from "@tokens/core";
import { runStoreConformance } from "@tokens/core/testing";
import * as mariadb from "mariadb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prismaStore } from "../src/index.js";
import { PrismaClient as MysqlClient } from "./generated/mysql/client/client.js";
import {
  mariadbConfig,
  migrationScripts,
  openMysql,
  prepareMysql,
  suiteFor,
} from "./support/databases.js";
import { itUpgrades } from "./support/upgrade.js";

// One file for every MySQL/MariaDB suite: they share the database `tokens_prisma` and run in
// order, each recreating it.
const server = () => process.env.MYSQL_URL as string;

suiteFor("MYSQL_URL", "MySQL/MariaDB")("prisma: MySQL/MariaDB server", () => {
  runStoreConformance("adapter-mariadb", async () => openMysql(await prepareMysql(server())));

  describe("a 200-way race of refreshes of one token through 4 clients (as 4 processes)", () => {
    const clients: MysqlClient[] = [];
    let admin: mariadb.Connection;
    beforeAll(async () => {
      const config = mariadbConfig(await prepareMysql(server()));
      for (let i = 0; i < 4; i++)
        clients.push(new MysqlClient({ adapter: new PrismaMariaDb(config) }));
      admin = await mariadb.createConnection(config);
    });
    afterAll(async () => {
      await Promise.all(clients.map((client) => client.$disconnect()));
      await admin?.end();
    });

    it("20 times: one rotation, every caller gets the same successor (grace > 0), one session row", async () => {
      const keys = [await generateSigningKey("EdDSA")];
      const events: TokensEvent[] = [];
      const instances = clients.map((client) =>
        createTokens({
          issuer: "https://issuer.race.test",
          audience: "https://api.race.test",
          keys,
          store: prismaStore(client),
          reuseGrace: 30,
          onEvent: (event) => void events.push(event),
        }),
      );
      for (let round = 0; round < 20; round++) {
        events.length = 0;
        const subject = `race-${round}-${Date.now()}`;
        const issued = await (instances[0] as (typeof instances)[0]).issue({ subject });
        const results = await Promise.allSettled(
          Array.from({ length: 200 }, (_, i) =>
            (instances[i % 4] as (typeof instances)[0]).refresh(issued.refresh_token),
          ),
        );
        const rejected = results.filter((result) => result.status === "rejected");
        expect(rejected).toEqual([]);
        const successors = new Set(
          results.map(
            (result) =>
              (result as PromiseFulfilledResult<{ refresh_token: string }>).value.refresh_token,
          ),
        );
        expect(successors.size).toBe(1);
        expect(events.filter((event) => event.type === "token_rotated")).toHaveLength(1);
        const rows: Array<{ generation: number; revoked_at: unknown }> = await admin.query(
          "SELECT generation, revoked_at FROM tokens_sessions WHERE subject = ?",
          [subject],
        );
        expect(rows).toEqual([{ generation: 1, revoked_at: null }]);
      }
    });
  });

  describe("upgrade", () => {
    itUpgrades(async (migration) => {
      const url = await prepareMysql(server(), { before: migration });
      const config = mariadbConfig(url);
      const admin = await mariadb.createConnection({ ...config, multipleStatements: true });
      const prisma = new MysqlClient({ adapter: new PrismaMariaDb(config) });
      return {
        exec: async (sql) => void (await admin.query(sql)),
        tables: async () =>
          (
            (await admin.query(
              "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE()",
            )) as Array<{ name: string }>
          ).map((row) => row.name),
        // DATETIME(3) in UTC, as Prisma writes it.
        literal: (date) => `'${date.toISOString().slice(0, 23).replace("T", " ")}'`,
        upgrade: migrationScripts("mysql", { from: migration }),
        store: () => prismaStore(prisma),
        close: async () => {
          await prisma.$disconnect();
          await admin.end();
        },
      };
    });
  });
});
