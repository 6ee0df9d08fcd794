import { runStoreConformance } from "@tokens/core/testing";
import { drizzle } from "drizzle-orm/mysql2";
import { migrate } from "drizzle-orm/mysql2/migrator";
import mysql from "mysql2/promise";
import { drizzleStore } from "../src/index.js";
import {
  CLOSED_PORT,
  describeWith,
  freshMysqlDatabase,
  migrationsFolder,
  withDatabase,
} from "./support/databases.js";

const serverUrl = process.env.MYSQL_URL ?? "";

function pool(uri: string): mysql.Pool {
  return mysql.createPool({ uri, connectionLimit: 5, connectTimeout: 5_000 });
}

describeWith("MYSQL_URL", "MySQL/MariaDB")("MySQL/MariaDB server", () => {
  runStoreConformance("drizzle / MySQL or MariaDB (mysql2)", async () => {
    const database = "tokens_drizzle_mysql2";
    const url = await freshMysqlDatabase(serverUrl, database);
    const main = pool(url);
    await migrate(drizzle({ client: main }), { migrationsFolder: migrationsFolder("mysql") });
    const peerPools = [pool(url), pool(url), pool(url)];
    const admin = pool(withDatabase(serverUrl, ""));
    const pools = [main, ...peerPools, admin];
    return {
      store: drizzleStore(drizzle({ client: main })),
      peers: peerPools.map((client) => drizzleStore(drizzle({ client }))),
      close: async () => {
        await Promise.all(pools.map((p) => p.end()));
      },
      faults: {
        interrupt: async () => {
          const [rows] = await admin.query(
            "SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()",
            [database],
          );
          // All at once, like a server restart; a connection that already ended is no error.
          await Promise.all(
            (rows as Array<{ id: number }>).map(({ id }) =>
              admin.query(`KILL ${Number(id)}`).catch(() => {}),
            ),
          );
        },
        unavailable: async () => {
          const closed = new URL(url);
          closed.port = String(CLOSED_PORT);
          const down = pool(closed.toString());
          pools.push(down);
          return drizzleStore(drizzle({ client: down }));
        },
      },
    };
  });
});
