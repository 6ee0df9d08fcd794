import { pathToFileURL } from "node:url";
import { createClient } from "@libsql/client";
import { runStoreConformance } from "@tokens/core/testing";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { openSqliteFile } from "./support/sqlite-file.js";

runStoreConformance("drizzle / SQLite (libsql, file)", () =>
  openSqliteFile({
    connect: (file) => {
      const client = createClient({ url: pathToFileURL(file).href });
      return { db: drizzle({ client }), close: () => client.close() };
    },
    migrate,
  }),
);
