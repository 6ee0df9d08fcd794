import { PGlite } from "@electric-sql/pglite";
import { runStoreConformance } from "@tokens/core/testing";
import { drizzle } from "drizzle-orm/pglite";
import { migrate } from "drizzle-orm/pglite/migrator";
import { drizzleStore } from "../src/index.js";
import { migrationsFolder } from "./support/databases.js";

// PGlite is PostgreSQL compiled to WebAssembly: one connection, in process, no server needed,
// so this suite always runs. It proves the PostgreSQL statements; the server suite adds pools.
runStoreConformance("drizzle / PGlite", async () => {
  const client = new PGlite();
  const db = drizzle({ client });
  await migrate(db, { migrationsFolder: migrationsFolder("pg") });
  // A closed PGlite instance refuses every query: the embedded equivalent of a dead server.
  // Made once: starting PGlite takes seconds.
  let closed: Promise<PGlite> | undefined;
  const closedClient = async () => {
    const instance = new PGlite();
    await instance.close();
    return instance;
  };
  return {
    store: drizzleStore(db),
    close: () => client.close(),
    faults: {
      unavailable: async () => {
        closed ??= closedClient();
        return drizzleStore(drizzle({ client: await closed }));
      },
    },
  };
});
