import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { generateSigningKey } from "@tokens/core";
import pg from "pg";
import { afterAll, beforeAll, describe, it } from "vitest";
import { loginRefreshReuse } from "../../shared/flow.js";
import { exampleDatabase } from "../../shared/postgres.js";
import { createApp } from "../src/app.js";
import { createTables, openPrisma } from "../src/database.js";
import type { PrismaClient } from "../src/generated/client.js";

const url = process.env.POSTGRES_URL;
if (!url)
  console.warn("POSTGRES_URL is not set: the express-prisma-postgres smoke test is SKIPPED");

// Skipped only without a server; CI sets POSTGRES_URL and fails the run if this suite skips
// (scripts/test-summary.mjs, TOKENS_REQUIRE_SERVERS=1).
describe.skipIf(!url)("express-prisma-postgres", () => {
  let prisma: PrismaClient;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const own = await exampleDatabase(
      url ?? "",
      "tokens_example_prisma",
      (u) => new pg.Client({ connectionString: u }),
    );
    await createTables(own);
    prisma = openPrisma(own);
    const app = createApp({
      issuer: "http://127.0.0.1",
      keys: [await generateSigningKey("EdDSA")],
      prisma,
    });
    server = app.listen(0, "127.0.0.1");
    await new Promise<void>((resolve) => server.once("listening", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await prisma?.$disconnect();
  });

  it("logs in, calls /api/me, rotates, and revokes the session on reuse (postgres)", async () => {
    await loginRefreshReuse((path, init) => fetch(`${base}${path}`, init), "user_demo");
  });
});
