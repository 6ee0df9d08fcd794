import { runStoreConformance } from "@tokens/core/testing";
import { drizzle as drizzleNodePg } from "drizzle-orm/node-postgres";
import { migrate as migrateNodePg } from "drizzle-orm/node-postgres/migrator";
import { drizzle as drizzlePostgresJs } from "drizzle-orm/postgres-js";
import { migrate as migratePostgresJs } from "drizzle-orm/postgres-js/migrator";
import pg from "pg";
import postgres from "postgres";
import { afterAll } from "vitest";
import { drizzleStore } from "../src/index.js";
import {
  CLOSED_PORT,
  describeWith,
  freshPostgresDatabase,
  migrationsFolder,
  postgresAdminUrl,
} from "./support/databases.js";

const serverUrl = process.env.POSTGRES_URL ?? "";

/** A node-postgres pool whose idle clients may be killed by the tests without crashing the process. */
function pool(connectionString: string): pg.Pool {
  const created = new pg.Pool({ connectionString, max: 5, connectionTimeoutMillis: 5_000 });
  // A terminated idle client is reported here; the pool drops it and connects anew on demand.
  created.on("error", () => {});
  return created;
}

/** Where nothing listens: `url` on a closed port. */
function unreachable(url: string): string {
  const closed = new URL(url);
  closed.port = String(CLOSED_PORT);
  return closed.toString();
}

describeWith("POSTGRES_URL", "PostgreSQL")("PostgreSQL server", () => {
  // Opened on first use: a skipped suite still runs this callback, without a URL.
  let admin: pg.Pool | undefined;
  afterAll(() => admin?.end());

  /** Kill every server connection to `database` (the store's and its peers'), as a failover would. */
  const terminate = async (database: string) => {
    admin ??= pool(postgresAdminUrl(serverUrl));
    await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
      [database],
    );
  };

  runStoreConformance("drizzle / PostgreSQL (node-postgres)", async () => {
    const database = "tokens_drizzle_node_pg";
    const url = await freshPostgresDatabase(serverUrl, database);
    const main = pool(url);
    await migrateNodePg(drizzleNodePg({ client: main }), {
      migrationsFolder: migrationsFolder("pg"),
    });
    // Independent pools: concurrent rotations really race on separate server connections.
    const peerPools = [pool(url), pool(url), pool(url)];
    const pools = [main, ...peerPools];
    return {
      store: drizzleStore(drizzleNodePg({ client: main })),
      peers: peerPools.map((client) => drizzleStore(drizzleNodePg({ client }))),
      close: async () => {
        await Promise.all(pools.map((p) => p.end()));
      },
      faults: {
        interrupt: () => terminate(database),
        unavailable: async () => {
          const down = pool(unreachable(url));
          pools.push(down);
          return drizzleStore(drizzleNodePg({ client: down }));
        },
      },
    };
  });

  // postgres-js returns results in its own shape (arrays with a `count`) and reconnects in its
  // own way: the same statements must hold through it too.
  runStoreConformance("drizzle / PostgreSQL (postgres-js)", async () => {
    const database = "tokens_drizzle_postgres_js";
    const url = await freshPostgresDatabase(serverUrl, database);
    const client = postgres(url, { max: 5, onnotice: () => {} });
    const db = drizzlePostgresJs({ client });
    await migratePostgresJs(db, { migrationsFolder: migrationsFolder("pg") });
    const peer = postgres(url, { max: 5, onnotice: () => {} });
    const clients = [client, peer];
    return {
      store: drizzleStore(db),
      peers: [drizzleStore(drizzlePostgresJs({ client: peer }))],
      close: async () => {
        // A bounded wait: connections that were terminated may still be reconnecting.
        await Promise.all(clients.map((c) => c.end({ timeout: 5 })));
      },
      faults: {
        interrupt: () => terminate(database),
        unavailable: async () => {
          const down = postgres(unreachable(url), { connect_timeout: 5 });
          clients.push(down);
          return drizzleStore(drizzlePostgresJs({ client: down }));
        },
      },
    };
  });
});
