import { ensureIndexes } from "@tokens/mongodb";
import { type Db, MongoClient, type MongoClientOptions } from "mongodb";

/** An indexed database and how to close its client. */
export interface Database {
  db: Db;
  close(): Promise<void>;
}

/**
 * Options of {@link openDatabase}.
 *
 * @example
 * ```ts
 * const options: OpenOptions = { name: "auth", client: { serverSelectionTimeoutMS: 2_000 } };
 * ```
 */
export interface OpenOptions {
  /** The database; default the one the URL names (the driver's `test` if it names none). */
  name?: string;
  /** Driver options, over this example's (which win over the URL's own query options). */
  client?: MongoClientOptions;
}

/**
 * The driver waits 30 s by default for a reachable server. A login or refresh during an outage
 * should get its 503 (and `Retry-After`) within seconds instead, and a start without a server
 * should fail just as quickly.
 */
const CLIENT_DEFAULTS: MongoClientOptions = { serverSelectionTimeoutMS: 5_000 };

/**
 * Connects to `url` and creates the indexes @tokens/mongodb relies on (`ensureIndexes`,
 * idempotent: run it at every start). MongoDB needs no migrations: collections appear with
 * their first document. Rejects with `StoreUnavailableError` (the driver's error as `cause`)
 * when MongoDB cannot be reached, after closing the client.
 *
 * @example
 * ```ts
 * const { db, close } = await openDatabase("mongodb://127.0.0.1:27017/tokens_example");
 * ```
 */
export async function openDatabase(url: string, options: OpenOptions = {}): Promise<Database> {
  const client = new MongoClient(url, { ...CLIENT_DEFAULTS, ...options.client });
  try {
    const db = client.db(options.name);
    // The first operation opens the connection, so this is also the fail-fast connect: with
    // driver v6/v7 a client whose first connection fails stays closed for good, and a server
    // started on it would answer 503 until restarted.
    await ensureIndexes({ db });
    return { db, close: () => client.close() };
  } catch (error) {
    await client.close();
    throw error;
  }
}
