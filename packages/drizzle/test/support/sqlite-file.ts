import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StoreUnderTest } from "@tokens/core/testing";
import type { MigrationConfig } from "drizzle-orm/migrator";
import { type AnySQLiteDatabase, drizzleStore } from "../../src/index.js";
import { migrationsFolder } from "./databases.js";

/** How a test opens one connection of its driver to a SQLite file, and migrates it. */
export interface SqliteFileDriver<TDb extends AnySQLiteDatabase> {
  connect(file: string): { db: TDb; close(): unknown };
  /** The driver's drizzle-orm migrator (synchronous or not). */
  migrate(db: TDb, config: MigrationConfig): unknown;
}

/** Peers besides the store: each one more app instance with its own connection. */
const PEERS = 3;

/**
 * The conformance environment of a SQLite driver on a fresh database file (not `:memory:`): the
 * store and each peer hold their own connection, so they share data only through the file, as
 * separate app instances do. The file's directory is removed on close.
 */
export async function openSqliteFile<TDb extends AnySQLiteDatabase>(
  driver: SqliteFileDriver<TDb>,
): Promise<StoreUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), "tokens-drizzle-"));
  const file = join(dir, "tokens.db");
  const connect = () => driver.connect(file);
  const main = connect();
  const peers = Array.from({ length: PEERS }, connect);
  await driver.migrate(main.db, { migrationsFolder: migrationsFolder("sqlite") });
  return {
    store: drizzleStore(main.db),
    peers: peers.map((peer) => drizzleStore(peer.db)),
    close: async () => {
      for (const connection of [main, ...peers]) await connection.close();
      rmSync(dir, { recursive: true, force: true });
    },
    faults: {
      // A closed connection refuses every call, as an unreachable database would.
      unavailable: async () => {
        const closed = driver.connect(file);
        await closed.close();
        return drizzleStore(closed.db);
      },
    },
  };
}
