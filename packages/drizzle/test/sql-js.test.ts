import { runStoreConformance } from "@tokens/core/testing";
import { drizzle } from "drizzle-orm/sql-js";
import { migrate } from "drizzle-orm/sql-js/migrator";
import initSqlJs from "sql.js";
import { drizzleStore } from "../src/index.js";
import { migrationsFolder } from "./support/databases.js";

// sql.js is SQLite compiled to WebAssembly behind Drizzle's synchronous SQLite session, the same
// code path as better-sqlite3 and bun:sqlite: statements run inside a native transaction instead
// of a batch.
runStoreConformance("drizzle / SQLite (sql.js, synchronous driver)", async () => {
  const SQL = await initSqlJs();
  const client = new SQL.Database();
  const db = drizzle(client);
  migrate(db, { migrationsFolder: migrationsFolder("sqlite") });
  return {
    store: drizzleStore(db),
    close: async () => client.close(),
    faults: {
      // A closed database refuses every statement.
      unavailable: async () => {
        const closed = new SQL.Database();
        closed.close();
        return drizzleStore(drizzle(closed));
      },
    },
  };
});
