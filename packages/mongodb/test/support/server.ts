import type { MongoClient } from "mongodb";
import { inject } from "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** The URL of the server the MongoDB suites use (see ./global-setup.ts). */
    mongodbUrl: string;
    /** What that server is: `MongoDB (MONGODB_URL)` or `FerretDB v1.24.2 (SQLite)`. */
    mongodbServer: string;
  }
}

/** The server a MongoDB suite should use, or `undefined` when the run has none. */
export interface TestServer {
  url: string;
  /** `MongoDB (MONGODB_URL)` or `FerretDB <version> (SQLite)`. */
  name: string;
}

/**
 * The server provided by the project's globalSetup (./global-setup.ts).
 *
 * @example
 * ```ts
 * const server = testServer();
 * describe.skipIf(!server)("on a real server", () => {});
 * ```
 */
export function testServer(): TestServer | undefined {
  const url = inject("mongodbUrl");
  if (!url) return undefined;
  const name = inject("mongodbServer") ?? "MongoDB";
  return { url, name };
}

/**
 * The FerretDB version of the server `client` talks to, or `undefined` for any other server:
 * FerretDB adds `ferretdbVersion` to `buildInfo` (which otherwise mimics MongoDB's).
 *
 * @example
 * ```ts
 * const ferretdb = await ferretdbVersion(client); // "v1.24.2" on FerretDB
 * ```
 */
export async function ferretdbVersion(client: MongoClient): Promise<string | undefined> {
  const info = await client.db("admin").command({ buildInfo: 1 });
  return typeof info.ferretdbVersion === "string" ? info.ferretdbVersion : undefined;
}
