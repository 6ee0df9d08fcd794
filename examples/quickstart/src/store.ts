import { mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { createClient } from "@libsql/client";
import type { TokenStore } from "@tokens/core";
import { drizzleStore } from "@tokens/drizzle";
import { memoryStore } from "@tokens/memory";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { ConfigError } from "./config.js";

/** An open store and how to release it on shutdown. */
export interface OpenStore {
  store: TokenStore;
  close(): Promise<void>;
}

/**
 * Opens the store `DATABASE_URL` names. This is the one place to change to use another
 * database: add a branch for its URL scheme that returns that adapter's store.
 *
 * - `file:PATH` (default `file:.data/tokens.db`): an embedded SQLite file through
 *   `@tokens/drizzle`, migrated on start, persisted across restarts.
 * - `memory:`: sessions live in this process and are gone on restart.
 *
 * @example
 * ```ts
 * const { store, close } = await openStore("file:.data/tokens.db");
 * ```
 */
export async function openStore(databaseUrl: string): Promise<OpenStore> {
  if (databaseUrl === "memory:") return { store: memoryStore(), close: async () => {} };
  if (databaseUrl.startsWith("file:")) {
    await mkdir(dirname(databaseUrl.slice("file:".length)) || ".", { recursive: true });
    const client = createClient({ url: databaseUrl });
    const db = drizzle({ client });
    // The adapter ships its generated migrations; applying them is idempotent.
    const drizzlePackage = createRequire(import.meta.url).resolve("@tokens/drizzle/package.json");
    await migrate(db, { migrationsFolder: join(dirname(drizzlePackage), "migrations", "sqlite") });
    return { store: drizzleStore(db), close: async () => client.close() };
  }
  const scheme = databaseUrl.split(":", 1)[0];
  throw new ConfigError(
    `DATABASE_URL scheme "${scheme}:" is not supported; use file:PATH or memory:`,
  );
}
