/*
 * Scale-out: four server processes share one PostgreSQL database; clients refresh through random
 * processes, some presenting the same token to two processes at once. Every session's chain must
 * stay linear (one successor per generation, whoever answers), no well-behaved client may trip
 * reuse detection, and generations advanced must equal the distinct successors handed out.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createTokens, generateSigningKey } from "@tokens/core";
import { drizzleStore } from "@tokens/drizzle";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import { build } from "esbuild";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  describeWith,
  freshPostgresDatabase,
  migrationsFolder,
} from "../../drizzle/test/support/databases.js";

const PROCESSES = 4;
const CLIENTS = 40;
const REFRESHES = 30;
/** Share of steps where the client sends its token to two processes at once. */
const CONCURRENT_SHARE = 0.2;

const source = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

/** Bundles the server script (workspace packages from source) so plain node can run it. */
async function bundleServer(dir: string): Promise<string> {
  const outfile = join(dir, "server.cjs");
  await build({
    entryPoints: [fileURLToPath(new URL("./fixtures/scaleout-server.ts", import.meta.url))],
    outfile,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    logLevel: "error",
    external: ["pg-native"],
    // A package's directory, so that its subpaths (`@tokens/core/sql`) resolve too.
    alias: Object.fromEntries(
      ["core", "drizzle", "http"].map((name) => [`@tokens/${name}`, source(`${name}/src`)]),
    ),
  });
  return outfile;
}

function startServer(script: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = new Promise<number>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      const match = /^PORT (\d+)$/.exec(line);
      if (match) resolve(Number(match[1]));
    });
  });
  return { child, port };
}

describeWith("POSTGRES_URL", "PostgreSQL")("scale-out on PostgreSQL", () => {
  const children: ChildProcess[] = [];
  const origins: string[] = [];
  let pool: pg.Pool | undefined;
  let dir = "";

  beforeAll(async () => {
    const url = await freshPostgresDatabase(process.env.POSTGRES_URL as string, "tokens_scaleout");
    pool = new pg.Pool({ connectionString: url, max: 2 });
    await migrate(drizzle({ client: pool }), { migrationsFolder: migrationsFolder("pg") });
    dir = mkdtempSync(join(tmpdir(), "tokens-scaleout-"));
    const script = await bundleServer(dir);
    const key = JSON.stringify(await generateSigningKey("EdDSA", { kid: "scaleout" }));
    const started = Array.from({ length: PROCESSES }, () =>
      startServer(script, { DATABASE_URL: url, SIGNING_KEY: key }),
    );
    children.push(...started.map((s) => s.child));
    for (const { port } of started) origins.push(`http://127.0.0.1:${await port}`);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once("exit", () => resolve());
            child.kill("SIGTERM");
          }),
      ),
    );
    await pool?.end();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const anyOrigin = () => origins[Math.floor(Math.random() * origins.length)] as string;

  async function refreshAt(origin: string, refreshToken: string) {
    const response = await fetch(`${origin}/auth/token/refresh`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken }),
    });
    const body = (await response.json()) as { refresh_token?: string; error?: string };
    return { status: response.status, body };
  }

  it("keeps every session's chain linear across four processes (PostgreSQL)", async () => {
    let requests = 0;
    let successes = 0;
    const refused: string[] = [];
    const chains = await Promise.all(
      Array.from({ length: CLIENTS }, async (_, i) => {
        const login = await fetch(`${anyOrigin()}/login?sub=scale-${i}`, { method: "POST" });
        expect(login.status).toBe(200);
        let current = ((await login.json()) as { refresh_token: string }).refresh_token;
        const chain: string[] = [];
        for (let step = 0; step < REFRESHES; step += 1) {
          const senders = Math.random() < CONCURRENT_SHARE ? 2 : 1;
          const answers = await Promise.all(
            Array.from({ length: senders }, () => refreshAt(anyOrigin(), current)),
          );
          requests += answers.length;
          for (const answer of answers) {
            if (answer.status === 200) successes += 1;
            else refused.push(`${answer.status} ${answer.body.error}`);
          }
          // Whoever answered, this generation has exactly one successor.
          const successors = new Set(answers.map((a) => a.body.refresh_token));
          expect(successors.size).toBe(1);
          current = answers[0]?.body.refresh_token as string;
          chain.push(current);
        }
        return chain;
      }),
    );
    expect(refused).toEqual([]);
    expect(successes).toBe(requests);

    // Reconcile with the database: each session advanced once per distinct successor.
    const store = drizzleStore(drizzle({ client: pool as pg.Pool }));
    const tokens = createTokens({
      issuer: "https://auth.example.test",
      audience: "https://api.example.test",
      keys: [await generateSigningKey("EdDSA")],
      store,
    });
    // The generation a session starts at, from a fresh one.
    const fresh = await tokens.issue({ subject: "scale-fresh" });
    const [freshSession] = await tokens.listSessions("scale-fresh");
    const startGeneration = (await store.getSession(freshSession?.id ?? ""))?.generation ?? 0;
    await tokens.revoke(fresh.refresh_token);
    let advanced = 0;
    for (const [i, chain] of chains.entries()) {
      expect(new Set(chain).size).toBe(REFRESHES);
      const sessions = await tokens.listSessions(`scale-${i}`);
      expect(sessions).toHaveLength(1);
      const session = await store.getSession((sessions[0] as { id: string }).id);
      expect(session?.revokedAt ?? null).toBeNull();
      advanced += (session?.generation ?? 0) - startGeneration;
    }
    expect(advanced).toBe(CLIENTS * REFRESHES);
    console.info(
      `scale-out: ${PROCESSES} processes, ${CLIENTS} clients, ${requests} refresh requests, ${successes} answered 200, ${advanced} generations advanced`,
    );
  }, 120_000);
});
