// A peer store in its own process, for the SQLite suites: one more connection to the database
// file, whose waits for SQLite's file lock block only this process (the drivers wait
// synchronously). Started by `sqlitePeer` with tsx; answers store calls sent over the IPC channel.
import type { TokenStore } from "@tokens/core";
import { prismaStore } from "../../src/index.js";
import { PrismaClient } from "../generated/sqlite/client/client.js";
import { type SqliteDriver, sqliteAdapter } from "./sqlite-adapter.js";

const [driver, url] = process.argv.slice(2) as [SqliteDriver, string];
const store = prismaStore(new PrismaClient({ adapter: sqliteAdapter(driver, url) }));

interface Call {
  id: number;
  method: keyof TokenStore;
  args: unknown[];
}

process.on("message", async ({ id, method, args }: Call) => {
  try {
    const call = store[method] as (...args: unknown[]) => Promise<unknown>;
    process.send?.({ id, value: await call(...args) });
  } catch (error) {
    const { name, message, code, reason, cause } = error as Record<string, unknown>;
    process.send?.({ id, error: { name, message, code, reason, cause: String(cause) } });
  }
});
process.on("disconnect", () => process.exit(0));
process.send?.({ ready: true });
