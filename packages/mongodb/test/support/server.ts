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
  /** Whether it is FerretDB, for the few behaviours that differ (see the adapter README). */
  ferretdb: boolean;
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
  return { url, name, ferretdb: name.startsWith("FerretDB") };
}
