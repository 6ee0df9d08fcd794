import type { DpopKeyStore } from "./types.js";

/**
 * A {@link DpopKeyStore} in memory: the key lives as long as the store object, so a session
 * bound to it cannot be refreshed after the process (or page) restarts. The default outside
 * browsers. Share one store between clients that should sign with the same key.
 *
 * @example
 * ```ts
 * import { createTokenClient, memoryKeyStore } from "@tokens/client";
 *
 * const client = createTokenClient({
 *   baseUrl: "https://api.example.com",
 *   transport: "body",
 *   storage,
 *   dpop: { keys: memoryKeyStore() },
 * });
 * ```
 */
export function memoryKeyStore(): DpopKeyStore {
  let stored: CryptoKeyPair | undefined;
  return {
    async load() {
      return stored;
    },
    async save(pair) {
      stored ??= pair;
    },
  };
}
