/*
 * Contention across processes: four processes, each with its own connection pool, refresh the
 * same token 50 times at once — a 200-way race — twenty times in a row, on each SQL server.
 * Every caller must get the same successor (one lineage, one rotation per burst), none may see a
 * store failure (a deadlock retried inside the store included), and the database must hold the
 * session's own row and nothing else: a refresh writes one row, and a lost race writes nothing.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface, type Interface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createTokens, generateSigningKey, type SigningKey } from "@tokens/core";
import { build } from "esbuild";
import { afterAll, beforeAll, type describe, expect, it } from "vitest";
import { describeWith } from "../../drizzle/test/support/databases.js";
import { mariadbStore, postgresStore, type SqlStore } from "./stores.js";

const PROCESSES = 4;
const PER_PROCESS = 50;
const BURSTS = 20;

const source = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

/**
 * Bundles the worker (workspace packages from source) so plain node can run it. The ORM and the
 * drivers stay external, imported by node itself from this package's node_modules, under which
 * the bundle is written (drizzle's circular imports need node's own ES module loading).
 */
async function bundleWorker(): Promise<string> {
  const outfile = fileURLToPath(
    new URL(`../node_modules/.cache/contention/worker-${process.pid}.mjs`, import.meta.url),
  );
  await build({
    entryPoints: [fileURLToPath(new URL("./fixtures/race-worker.ts", import.meta.url))],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "error",
    external: ["drizzle-orm", "pg", "mysql2"],
    // A package's directory, so that its subpaths (`@tokens/core/sql`) resolve too.
    alias: Object.fromEntries(
      ["core", "drizzle"].map((name) => [`@tokens/${name}`, source(`${name}/src`)]),
    ),
  });
  return outfile;
}

interface Worker {
  child: ChildProcess;
  lines: Interface;
  next(): Promise<string>;
}

function startWorker(script: string, env: Record<string, string>): Worker {
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "inherit"],
    cwd: fileURLToPath(new URL("..", import.meta.url)),
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const queue: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  lines.on("line", (line) => {
    const resolve = waiting.shift();
    if (resolve) resolve(line);
    else queue.push(line);
  });
  return {
    child,
    lines,
    next: () =>
      new Promise((resolve) => {
        const line = queue.shift();
        if (line !== undefined) resolve(line);
        else waiting.push(resolve);
      }),
  };
}

type Outcome = { token?: string; error?: string };

const databases: Array<{
  name: string;
  run: typeof describe;
  open: (dir: string) => Promise<SqlStore>;
}> = [
  {
    name: "MariaDB",
    run: describeWith("MYSQL_URL", "MariaDB"),
    open: () => mariadbStore(process.env.MYSQL_URL as string, "tokens_contention"),
  },
  {
    name: "PostgreSQL",
    run: describeWith("POSTGRES_URL", "PostgreSQL"),
    open: () => postgresStore(process.env.POSTGRES_URL as string, "tokens_contention"),
  },
];

for (const database of databases) {
  database.run(
    `a 200-way race on one token across ${PROCESSES} processes (${database.name})`,
    () => {
      let dir = "";
      let opened: SqlStore | undefined;
      let key: SigningKey;
      let script = "";
      const workers: Worker[] = [];

      beforeAll(async () => {
        dir = mkdtempSync(join(tmpdir(), "tokens-contention-"));
        opened = await database.open(dir);
        key = await generateSigningKey("EdDSA", { kid: "contention" });
        script = await bundleWorker();
        for (let i = 0; i < PROCESSES; i++) {
          workers.push(
            startWorker(script, { DATABASE_URL: opened.url, SIGNING_KEY: JSON.stringify(key) }),
          );
        }
        for (const worker of workers) expect(await worker.next()).toBe("READY");
      }, 120_000);

      afterAll(async () => {
        for (const { child } of workers) child.kill("SIGTERM");
        await opened?.close();
        if (dir) rmSync(dir, { recursive: true, force: true });
        if (script) rmSync(script, { force: true });
      });

      it(`${BURSTS} bursts: one successor each, no store failure, one row`, async () => {
        if (!opened) throw new Error("not opened");
        const tokens = createTokens({
          issuer: "https://auth.example.test",
          audience: "https://api.example.test",
          keys: [key],
          store: opened.store,
        });
        const pair = await tokens.issue({ subject: `contention-${crypto.randomUUID()}` });
        let token = pair.refresh_token;
        for (let burst = 0; burst < BURSTS; burst++) {
          for (const worker of workers)
            worker.child.stdin?.write(`refresh ${token} ${PER_PROCESS}\n`);
          const outcomes = (
            await Promise.all(workers.map(async (w) => JSON.parse(await w.next()) as Outcome[]))
          ).flat();
          expect(outcomes).toHaveLength(PROCESSES * PER_PROCESS);
          const errors = outcomes.flatMap((o) => (o.error ? [o.error] : []));
          expect(errors, `burst ${burst}: errors reaching callers`).toEqual([]);
          const successors = new Set(outcomes.map((o) => o.token));
          expect(successors.size, `burst ${burst}: distinct successors`).toBe(1);
          token = [...successors][0] as string;
          const session = await opened.store.getSession(pair.session.id);
          expect(session?.generation, `burst ${burst}: rotations`).toBe(burst + 1);
          expect(session?.revokedAt).toBeNull();
        }
        // Nothing but the session rows this database was given: one table, one row per session.
        expect(await opened.rows()).toEqual({ tokens_sessions: 1 });
      }, 300_000);
    },
  );
}
