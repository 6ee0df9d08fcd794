import { mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAdaptorServer } from "@hono/node-server";
import { type Client, createClient } from "@libsql/client";
import { generateSigningKey } from "@tokens/core";
import { drizzle } from "drizzle-orm/libsql";
import type { Hono } from "hono";
import { afterAll, beforeAll, describe, it } from "vitest";
import { loginRefreshReuse } from "../../shared/flow.js";
import { createApp } from "../src/app.js";
import { migrateTokens } from "../src/migrate.js";

describe("hono-sqlite-edge", () => {
  let dir: string;
  let client: Client;
  let server: Server;
  let base: string;
  let app: Hono;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hono-sqlite-edge-"));
    client = createClient({ url: `file:${join(dir, "tokens.db")}` });
    const db = drizzle({ client });
    await migrateTokens(db);
    // The issuer is the server's own URL, known once it listens: serve through a late binding.
    server = createAdaptorServer({ fetch: (request) => app.fetch(request) }) as Server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    app = createApp({ issuer: base, keys: [await generateSigningKey("EdDSA")], db });
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    client?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("logs in, calls /api/me, rotates, and revokes the session on reuse", async () => {
    await loginRefreshReuse((path, init) => fetch(`${base}${path}`, init), "user_demo");
  });
});
