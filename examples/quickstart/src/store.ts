import type { TokenStore } from "@tokens/core";
import { memoryStore } from "@tokens/memory";
import { ConfigError } from "./config.js";

/** An open store and how to release it on shutdown. */
export interface OpenStore {
  store: TokenStore;
  close(): Promise<void>;
}

/**
 * Opens the store `DATABASE_URL` names. This is the one place to change to use a database:
 * add a branch for its URL scheme that returns that adapter's store.
 *
 * @example
 * ```ts
 * const { store, close } = await openStore("memory:");
 * ```
 */
export async function openStore(databaseUrl: string): Promise<OpenStore> {
  if (databaseUrl === "memory:") {
    // Sessions live in this process and are gone on restart: fine for trying tokens out.
    return { store: memoryStore(), close: async () => {} };
  }
  const scheme = databaseUrl.split(":", 1)[0];
  throw new ConfigError(`DATABASE_URL scheme "${scheme}:" is not supported here; use memory:`);
}
