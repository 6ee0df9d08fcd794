import type { AddressInfo } from "node:net";
import { generateSigningKey } from "@tokens/core";
import type { FastifyInstance } from "fastify";
import pg from "pg";
import { afterAll, beforeAll, describe, it } from "vitest";
import { loginRefreshReuse } from "../../shared/flow.js";
import { exampleDatabase } from "../../shared/postgres.js";
import { createApp } from "../src/app.js";
import { type Database, openDatabase } from "../src/database.js";

const url = process.env.POSTGRES_URL;
if (!url)
  console.warn("POSTGRES_URL is not set: the fastify-drizzle-postgres smoke test is SKIPPED");

// Skipped only without a server; CI sets POSTGRES_URL and fails the run if this suite skips
// (scripts/test-summary.mjs, TOKENS_REQUIRE_SERVERS=1).
describe.skipIf(!url)("fastify-drizzle-postgres", () => {
  let database: Database;
  let app: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    const own = await exampleDatabase(
      url ?? "",
      "tokens_example_drizzle",
      (u) => new pg.Client({ connectionString: u }),
    );
    database = await openDatabase(own);
    app = await createApp({
      issuer: "http://127.0.0.1",
      keys: [await generateSigningKey("EdDSA")],
      db: database.db,
    });
    await app.listen({ port: 0, host: "127.0.0.1" });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  it("logs in, calls /api/me, rotates, and revokes the session on reuse (postgres)", async () => {
    await loginRefreshReuse((path, init) => fetch(`${base}${path}`, init), "user_demo");
  });
});
