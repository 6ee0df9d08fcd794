import type { DpopKeyStore } from "./types.js";

/**
 * Options of {@link indexedDbKeyStore}.
 *
 * @example
 * ```ts
 * const options: IndexedDbKeyStoreOptions = { database: "tokens-dpop-billing" };
 * ```
 */
export interface IndexedDbKeyStoreOptions {
  /** IndexedDB database name. Default `"tokens-dpop"`; clients sharing it share the key. */
  database?: string;
}

const OBJECT_STORE = "tokens-keys";
const RECORD_KEY = "dpop";

/**
 * A {@link DpopKeyStore} in IndexedDB, the default in browsers. The `CryptoKey` objects are
 * stored as they are (structured clone): the private key stays non-extractable, so page
 * scripts (an XSS included) can sign with it while the page is open but can never read it out
 * or copy it elsewhere. It survives reloads and is shared by every tab of the origin; the
 * first tab to save wins (an IndexedDB `add`, which refuses an existing record).
 *
 * @example
 * ```ts
 * import { createTokenClient, indexedDbKeyStore } from "@tokens/client";
 *
 * const client = createTokenClient({ dpop: { keys: indexedDbKeyStore({ database: "tokens-dpop-admin" }) } });
 * ```
 */
export function indexedDbKeyStore(options: IndexedDbKeyStoreOptions = {}): DpopKeyStore {
  const name = options.database ?? "tokens-dpop";
  let opened: Promise<IDBDatabase> | null = null;

  const database = () => {
    if (!opened) {
      opened = open(name).then(
        (db) => {
          // Another page wants a newer version: let it; the next call here opens again.
          db.onversionchange = () => {
            db.close();
            opened = null;
          };
          return db;
        },
        (error: unknown) => {
          opened = null;
          throw error;
        },
      );
    }
    return opened;
  };

  return {
    async load() {
      const db = await database();
      const stored = await request(
        db.transaction(OBJECT_STORE, "readonly").objectStore(OBJECT_STORE).get(RECORD_KEY),
      );
      return isKeyPair(stored)
        ? { privateKey: stored.privateKey, publicKey: stored.publicKey }
        : undefined;
    },
    async save(pair) {
      const db = await database();
      const transaction = db.transaction(OBJECT_STORE, "readwrite");
      const record = { privateKey: pair.privateKey, publicKey: pair.publicKey };
      const added = request(transaction.objectStore(OBJECT_STORE).add(record, RECORD_KEY));
      try {
        await added;
      } catch (error) {
        // Another tab saved first: its pair is the one to use.
        if ((error as DOMException | null)?.name !== "ConstraintError") throw error;
      }
    },
  };
}

function open(name: string): Promise<IDBDatabase> {
  const opening = indexedDB.open(name, 1);
  opening.onupgradeneeded = () => {
    opening.result.createObjectStore(OBJECT_STORE);
  };
  return request(opening);
}

function request<T>(pending: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    pending.onsuccess = () => resolve(pending.result);
    pending.onerror = (event) => {
      // Handled here: an unprevented error would also abort the transaction loudly.
      event.preventDefault();
      reject(pending.error);
    };
  });
}

function isKeyPair(value: unknown): value is CryptoKeyPair {
  if (typeof value !== "object" || value === null) return false;
  const pair = value as Record<string, unknown>;
  return pair.privateKey instanceof CryptoKey && pair.publicKey instanceof CryptoKey;
}
