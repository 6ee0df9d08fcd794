/*
 * vitest globalSetup of the projects that need a MongoDB server (`mongodb`, `express-mongodb`):
 * provides `mongodbUrl` and `mongodbServer` to their tests (read them with `testServer()` from
 * ./server.ts).
 *
 * - MONGODB_URL set (a real MongoDB, standalone, replica set or mongos): that server, as it is.
 * - Otherwise a FerretDB of this project's own (SQLite backend, temporary data folder, free
 *   loopback port), started here from the binary `scripts/ferretdb.sh build` cached and stopped
 *   when the run ends. Each project gets its own, so projects never share data.
 * - Neither (FerretDB not built, or it did not start): nothing is provided, the suites skip with
 *   a warning, and under TOKENS_REQUIRE_SERVERS=1 scripts/test-summary.mjs fails the run. This
 *   never throws: a failed set-up must not hide the other projects' results.
 */
import type { TestProject } from "vitest/node";
import { type FerretdbServer, ferretdbBinary, startFerretdb } from "./ferretdb.js";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.MONGODB_URL;
  if (given) {
    project.provide("mongodbUrl", given);
    project.provide("mongodbServer", "MongoDB (MONGODB_URL)");
    return async () => {};
  }
  const binary = ferretdbBinary();
  if ("missing" in binary) {
    console.warn(`[${project.name}] no MongoDB server: MONGODB_URL is unset and ${binary.missing}`);
    return async () => {};
  }
  let server: FerretdbServer;
  try {
    server = await startFerretdb(binary.path);
  } catch (error) {
    console.warn(`[${project.name}] no MongoDB server: FerretDB did not start: ${String(error)}`);
    return async () => {};
  }
  project.provide("mongodbUrl", server.url);
  project.provide("mongodbServer", server.name);
  return () => server.destroy();
}
