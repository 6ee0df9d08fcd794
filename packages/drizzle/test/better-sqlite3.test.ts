import { runStoreConformance } from "@tokens/core/testing";
import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { openSqliteFile } from "./support/sqlite-file.js";

// A synchronous driver: each atomic write runs in a native transaction (BEGIN IMMEDIATE), which
// cannot yield to the event loop, so peers in this process never see it half done.
runStoreConformance("drizzle / SQLite (better-sqlite3, file)", () =>
  openSqliteFile({
    connect: (file) => {
      const client = new Database(file);
      return { db: drizzle({ client }), close: () => client.close() };
    },
    migrate,
  }),
);
