import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createClient } from "@libsql/client";
import { runStoreConformance } from "@tokens/core/testing";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { drizzleStore } from "../src/index.js";
import { migrationsFolder } from "./support/databases.js";

// A SQLite file (not :memory:) so that the peer, a second client, shares the data through its
// own connections, as a second app process would.
runStoreConformance("drizzle / SQLite (libsql, file)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tokens-drizzle-"));
  const url = pathToFileURL(join(dir, "tokens.db")).toString();
  const client = createClient({ url });
  const peerClient = createClient({ url });
  const db = drizzle({ client });
  await migrate(db, { migrationsFolder: migrationsFolder("sqlite") });
  return {
    store: drizzleStore(db),
    peers: [drizzleStore(drizzle({ client: peerClient }))],
    close: async () => {
      client.close();
      peerClient.close();
      rmSync(dir, { recursive: true, force: true });
    },
    faults: {
      // A closed client refuses every call, as an unreachable database would.
      unavailable: async () => {
        const closed = createClient({ url });
        closed.close();
        return drizzleStore(drizzle({ client: closed }));
      },
    },
  };
});
