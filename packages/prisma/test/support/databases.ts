import { fork } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { PrismaMariaDb } from "@prisma/adapter-mariadb";
import { PrismaPg } from "@prisma/adapter-pg";
import { StoreUnavailableError, type TokenStore } from "@tokens/core";
import * as mariadb from "mariadb";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { describe } from "vitest";
import { type PrismaStoreOptions, prismaStore } from "../../src/index.js";
import { PrismaClient as MysqlClient } from "../generated/mysql/client/client.js";
import { PrismaClient as PostgresClient } from "../generated/postgresql/client/client.js";
import { PrismaClient as SqliteClient } from "../generated/sqlite/client/client.js";
import { type SqliteDriver, sqliteAdapter } from "./sqlite-adapter.js";

/** The database each suite owns, so suites of other packages can share the server. */
export const DATABASE = "tokens_prisma";

/** What a suite opens: the shape `runStoreConformance` expects. */
export interface OpenedStore {
  store: TokenStore;
  peers?: TokenStore[];
  close?: () => Promise<void>;
  faults?: { unavailable?: () => Promise<TokenStore>; interrupt?: () => Promise<void> };
}

type Provider = "postgresql" | "mysql" | "sqlite";

/** The release that made sessions one row each: the upgrade tests apply what came before it. */
export const SESSION_ROW_MIGRATION = "20261203000000_tokens_session_row";

/** The release that let sessions be bound to a DPoP key. */
export const DPOP_BINDING_MIGRATION = "20261204000000_dpop_binding";

/**
 * The checked-in migrations of a provider, in the order Prisma would apply them: all of them,
 * or those before (`"before"`) or from (`"from"`) the one named.
 */
export function migrationScripts(
  provider: Provider,
  range?: { before: string } | { from: string },
): string[] {
  const dir = new URL(`../../migrations/${provider}/`, import.meta.url);
  return readdirSync(dir)
    .sort()
    .filter((name) =>
      range === undefined ? true : "before" in range ? name < range.before : name >= range.from,
    )
    .map((name) => readFileSync(new URL(`${name}/migration.sql`, dir), "utf8"));
}

/** A disconnectable thing: Prisma clients and drivers alike. */
type Closable = { $disconnect(): Promise<void> } | { end(): Promise<void> } | { close(): unknown };

/** Everything a suite opens, closed together after its last test. */
function resources() {
  const opened: Closable[] = [];
  return {
    track<T extends Closable>(resource: T): T {
      opened.push(resource);
      return resource;
    },
    closeAll: async () => {
      await Promise.all(
        opened.map((resource) =>
          "$disconnect" in resource
            ? resource.$disconnect()
            : "end" in resource
              ? resource.end()
              : resource.close(),
        ),
      );
    },
  };
}

/** The server URL with the suite's own database in place of the one it names. */
export function ownDatabaseUrl(serverUrl: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${DATABASE}`;
  return url.toString();
}

/**
 * PGlite (in-process PostgreSQL). One PGlite instance is one connection, so there are no peers:
 * the PostgreSQL suite covers independent connections.
 */
export async function openPglite(options?: PrismaStoreOptions): Promise<OpenedStore> {
  const { track, closeAll } = resources();
  const db = track(new PGlite());
  for (const script of migrationScripts("postgresql")) await db.exec(script);
  const prisma = track(new PostgresClient({ adapter: new PrismaPGlite(db) }));
  let closed: Promise<PGlite> | undefined;
  return {
    store: prismaStore(prisma, options),
    close: closeAll,
    faults: {
      // A PGlite that was closed answers every query with an error, as a database that went away.
      // Created once: starting a PGlite costs seconds.
      unavailable: async () => {
        closed ??= (async () => {
          const gone = new PGlite();
          await gone.close();
          return gone;
        })();
        return prismaStore(
          track(new PostgresClient({ adapter: new PrismaPGlite(await closed) })),
          options,
        );
      },
    },
  };
}

/**
 * A SQLite file through `driver`. The peers run in child processes: both drivers wait for
 * SQLite's file lock synchronously, so clients sharing one event loop would stall each other,
 * while separate processes contend for the lock as separate servers or workers of an app do.
 */
export async function openSqlite(driver: SqliteDriver): Promise<OpenedStore> {
  const dir = mkdtempSync(join(tmpdir(), "tokens-prisma-"));
  const url = `file:${join(dir, "tokens.db")}`;
  // Set up through the suite's own adapter, never another SQLite library: libSQL closes a file
  // only when its connection is garbage-collected, and that close drops the POSIX locks another
  // library's connection in this process holds on the file, so peers stop seeing its writes.
  const setup = await sqliteAdapter(driver, url).connect();
  // WAL lets readers proceed while one connection writes.
  await setup.executeScript(
    ["PRAGMA journal_mode = WAL;", ...migrationScripts("sqlite")].join("\n"),
  );
  await setup.dispose();

  const { track, closeAll } = resources();
  const prisma = track(new SqliteClient({ adapter: sqliteAdapter(driver, url) }));
  const peers = await Promise.all(
    Array.from({ length: 3 }, async () => track(await sqlitePeer(driver, url))),
  );
  return {
    store: prismaStore(prisma),
    peers: peers.map((peer) => peer.store),
    close: async () => {
      await closeAll();
      rmSync(dir, { recursive: true, force: true });
    },
    faults: {
      // A database file in a directory that does not exist cannot be opened.
      unavailable: async () => {
        const missing = `file:${join(dir, "missing", "tokens.db")}`;
        return prismaStore(track(new SqliteClient({ adapter: sqliteAdapter(driver, missing) })));
      },
    },
  };
}

type PeerReply =
  | { ready: true }
  | { id: number; value?: unknown; error?: Partial<Record<string, string>> };

/** Starts test/support/sqlite-peer.ts in a child process and returns a store forwarding to it. */
async function sqlitePeer(
  driver: SqliteDriver,
  url: string,
): Promise<{ store: TokenStore; end: () => Promise<void> }> {
  const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
  const child = fork(here("./sqlite-peer.ts"), [driver, url], {
    execArgv: ["--import", pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href],
    env: { ...process.env, TSX_TSCONFIG_PATH: here("./peer.tsconfig.json") },
    serialization: "advanced",
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: unknown) => void }
  >();
  let nextId = 0;
  const ready = new Promise<void>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`SQLite peer exited with ${code}`)));
    child.on("message", (reply: PeerReply) => {
      if ("ready" in reply) return resolve();
      const call = pending.get(reply.id);
      pending.delete(reply.id);
      if (!reply.error) return call?.resolve(reply.value);
      const { name, message = "", cause } = reply.error;
      // Rebuilt so that callers see the store's typed error, not an IPC artefact.
      call?.reject(
        name === "StoreUnavailableError"
          ? new StoreUnavailableError(message, { cause })
          : new Error(message),
      );
    });
  });
  await ready;
  const call =
    (method: keyof TokenStore) =>
    (...args: unknown[]) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        child.send({ id, method, args });
      });
  const methods: Array<keyof TokenStore> = [
    "createSession",
    "getSession",
    "rotate",
    "listSessions",
    "revokeSession",
    "revokeSubject",
    "purge",
  ];
  const store = Object.fromEntries(
    methods.map((method) => [method, call(method)]),
  ) as unknown as TokenStore;
  return {
    store,
    end: async () => {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.disconnect();
      await exited;
    },
  };
}

/** Drops and recreates the suite's PostgreSQL database, then applies the migrations. */
export async function preparePostgres(serverUrl: string): Promise<string> {
  // Through the maintenance database: the URL may name the suite's own, which is dropped.
  const maintenance = new URL(serverUrl);
  maintenance.pathname = "/postgres";
  const admin = new pg.Client({ connectionString: maintenance.toString() });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await admin.end();
  }
  const url = ownDatabaseUrl(serverUrl);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const script of migrationScripts("postgresql")) await client.query(script);
  } finally {
    await client.end();
  }
  return url;
}

/** PostgreSQL through `@prisma/adapter-pg`: the store plus three peers, each its own pool. */
export async function openPostgres(
  url: string,
  options?: PrismaStoreOptions,
): Promise<OpenedStore> {
  const { track, closeAll } = resources();
  const clients = Array.from({ length: 4 }, () =>
    track(new PostgresClient({ adapter: new PrismaPg({ connectionString: url }) })),
  );
  const [main, ...peers] = clients.map((client) => prismaStore(client, options));
  const admin = track(new pg.Client({ connectionString: url }));
  await admin.connect();
  return {
    store: main as TokenStore,
    peers,
    close: closeAll,
    faults: {
      // Nothing listens on port 1: every connection attempt is refused.
      unavailable: async () =>
        prismaStore(
          track(new PostgresClient({ adapter: new PrismaPg({ host: "127.0.0.1", port: 1 }) })),
          options,
        ),
      interrupt: async () => {
        await admin.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
          [DATABASE],
        );
      },
    },
  };
}

export function mariadbConfig(url: string): mariadb.ConnectionConfig {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 3306),
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database: parsed.pathname.slice(1) || undefined,
  };
}

/** Drops and recreates the suite's MySQL/MariaDB database, then applies the migrations. */
export async function prepareMysql(
  serverUrl: string,
  range?: Parameters<typeof migrationScripts>[1],
): Promise<string> {
  const admin = await mariadb.createConnection({
    ...mariadbConfig(serverUrl),
    multipleStatements: true,
  });
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${DATABASE}`);
    await admin.query(`CREATE DATABASE ${DATABASE}`);
    await admin.query(`USE ${DATABASE}`);
    for (const script of migrationScripts("mysql", range)) await admin.query(script);
  } finally {
    await admin.end();
  }
  return ownDatabaseUrl(serverUrl);
}

/** MySQL/MariaDB through `@prisma/adapter-mariadb`: the store plus three peers, each its own pool. */
export async function openMysql(url: string): Promise<OpenedStore> {
  const config = mariadbConfig(url);
  const { track, closeAll } = resources();
  const clients = Array.from({ length: 4 }, () =>
    track(new MysqlClient({ adapter: new PrismaMariaDb(config) })),
  );
  const [main, ...peers] = clients.map((client) => prismaStore(client));
  const admin = track(await mariadb.createConnection(config));
  return {
    store: main as TokenStore,
    peers,
    close: closeAll,
    faults: {
      // Nothing listens on port 1; short timeouts keep each refused call well under a second.
      unavailable: async () => {
        const down = new PrismaMariaDb({
          ...config,
          port: 1,
          connectTimeout: 500,
          acquireTimeout: 500,
        });
        return prismaStore(track(new MysqlClient({ adapter: down })));
      },
      interrupt: async () => {
        const rows: Array<{ id: number | bigint }> = await admin.query(
          "SELECT id FROM information_schema.PROCESSLIST WHERE db = ? AND id <> CONNECTION_ID()",
          [DATABASE],
        );
        for (const { id } of rows) {
          // A connection may close on its own between the listing and the kill.
          await admin.query(`KILL CONNECTION ${Number(id)}`).catch(() => undefined);
        }
      },
    },
  };
}

/**
 * `describe` when the server URL is set, else `describe.skip` after one warning line naming the
 * skipped suite: its tests are then reported as skipped, never silently absent.
 */
export function suiteFor(
  variable: "POSTGRES_URL" | "MYSQL_URL",
  server: string,
): (name: string, body: () => void) => void {
  const missing = !process.env[variable];
  if (missing)
    console.warn(
      `[@tokens/prisma] ${variable} is not set: skipping the Prisma ${server} conformance suites`,
    );
  return (name, body) => (missing ? describe.skip : describe)(name, body);
}
