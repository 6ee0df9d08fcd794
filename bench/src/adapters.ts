import { createTokens, generateSigningKey, type TokenStore } from "@tokens/core";
import { type AdapterName, type BenchDatabase, migrationStatements } from "./adapters/database.js";
import { prismaClient } from "./adapters/prisma-client.js";
import { coreChain } from "./core.js";
import {
  type BenchContext,
  envInt,
  envList,
  type Section,
  workspacePackage,
} from "./lib/context.js";
import { type Meter, processCpu, processesCpu } from "./lib/cpu.js";
import { compare } from "./lib/measure.js";
import { type Stat, stat } from "./lib/stats.js";

const SECTION = "adapters";
const FLAT_TARGET = { text: "drop from the smallest size ≤ the database's own (≥ 0.9×)", min: 0.9 };
const SERVER_CPU_TARGET = { text: "database server CPU ≤ the hand-written rotation's", max: 1 };
const ROTATION = "hand-written rotation (UPDATE … RETURNING + INSERT) + crypto.sign";
const SINGLE_ROW = "hand-written single-row UPDATE + crypto.sign";

/**
 * What each adapter must reach against the hand-written rotation at the highest concurrency,
 * by database. Prisma's query machinery costs more than Drizzle's on every database, so its
 * targets are lower; PGlite runs in this process, so it counts as in-process like SQLite.
 */
const REFRESH_TARGETS: Record<AdapterName, Record<string, number>> = {
  drizzle: { postgresql: 1.0, mariadb: 0.9, sqlite: 0.9, pglite: 0.9 },
  prisma: { postgresql: 0.7, mariadb: 0.7, sqlite: 0.6, pglite: 0.6 },
};

function refreshTarget(adapter: AdapterName, database: string) {
  const min = REFRESH_TARGETS[adapter][database] as number;
  return { text: `adapter ≥ ${min.toFixed(1)}× the hand-written rotation`, min };
}

interface DatabaseSpec {
  id: string;
  open(): Promise<BenchDatabase>;
  sizes: number[];
  /** Why it is skipped (no server URL). */
  missing?: string;
}

function databases(poolSize: number): DatabaseSpec[] {
  // Every database at 10k and at 1M sessions: a refresh must cost the same however many exist.
  const embedded = envList("BENCH_SESSIONS", [10_000, 1_000_000]);
  const { POSTGRES_URL, MYSQL_URL } = process.env;
  return [
    {
      id: "postgresql",
      sizes: envList("BENCH_PG_SESSIONS", [10_000, 1_000_000]),
      open: async () =>
        (await import("./adapters/postgres.js")).openPostgres(POSTGRES_URL as string, poolSize),
      missing: POSTGRES_URL ? undefined : "POSTGRES_URL is not set",
    },
    {
      id: "mariadb",
      sizes: embedded,
      open: async () =>
        (await import("./adapters/mariadb.js")).openMariaDb(MYSQL_URL as string, poolSize),
      missing: MYSQL_URL ? undefined : "MYSQL_URL is not set",
    },
    {
      id: "sqlite",
      sizes: embedded,
      open: async () => (await import("./adapters/sqlite.js")).openSqlite(),
    },
    {
      id: "pglite",
      sizes: embedded,
      open: async () => (await import("./adapters/pglite.js")).openPglite(),
    },
  ];
}

type StoreFactory = (
  db: BenchDatabase,
) => Promise<{ store: TokenStore; close?: () => Promise<void> }>;

/** The adapters that exist in the tree, by name; the others are reported as skipped. */
async function adapters(ctx: BenchContext): Promise<Partial<Record<AdapterName, StoreFactory>>> {
  const found: Partial<Record<AdapterName, StoreFactory>> = {};
  const drizzle = await workspacePackage<typeof import("@tokens/drizzle")>("@tokens/drizzle");
  if (drizzle.module) {
    const { drizzleStore } = drizzle.module;
    found.drizzle = async (db) => ({ store: drizzleStore((await db.drizzle()) as never) });
  } else ctx.note(SECTION, `drizzle skipped: ${drizzle.reason}`);
  const prisma = await workspacePackage<typeof import("@tokens/prisma")>("@tokens/prisma");
  if (prisma.module) {
    const { prismaStore } = prisma.module;
    found.prisma = async (db) => {
      const PrismaClient = await prismaClient(db.dialect);
      const client = new PrismaClient({ adapter: await db.prismaAdapter() });
      return { store: prismaStore(client as never), close: () => client.$disconnect() };
    };
  } else ctx.note(SECTION, `prisma skipped: ${prisma.reason}`);
  return found;
}

const sizeLabel = (n: number) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n));

async function measureDatabase(
  ctx: BenchContext,
  spec: DatabaseSpec,
  stores: Partial<Record<AdapterName, StoreFactory>>,
): Promise<void> {
  const db = await spec.open();
  ctx.version(db.label.split(" (")[0] as string, db.label);
  const concurrencies = envList("BENCH_ADAPTER_CONCURRENCY", [1, 8, 32]);
  const large = envInt("BENCH_LARGE_CONCURRENCY", 32);
  const durationMs = envInt("BENCH_ADAPTER_DURATION_MS", 800);
  // Where a refresh's time goes: CPU per refresh in the database server and in this process
  // (core, adapter, driver, signing; and the database itself when it runs in-process).
  const server = db.serverProcess ? processesCpu(db.serverProcess) : undefined;
  const meters: Record<string, Meter> = server
    ? { [`${db.serverProcess} (database server)`]: server, "Node.js (this process)": processCpu }
    : { "Node.js (this process, database included)": processCpu };
  try {
    for (const [name, open] of Object.entries(stores) as [AdapterName, StoreFactory][]) {
      await db.reset(migrationStatements(name, db.dialect));
      const opened = await open(db);
      const tokens = createTokens({
        issuer: "https://auth.example.com",
        audience: "https://api.example.com",
        keys: [await generateSigningKey("EdDSA", { kid: "bench" })],
        store: opened.store,
      });
      try {
        let loaded = 0;
        let first: { adapter: Stat; sql: Stat } | undefined;
        for (const size of spec.sizes) {
          ctx.log(`adapters: ${name} on ${db.label}, ${sizeLabel(size)} sessions (loading)`);
          const started = Date.now();
          await db.fill(loaded, size);
          loaded = size;
          ctx.log(`adapters: loaded in ${((Date.now() - started) / 1000).toFixed(0)} s`);
          for (const concurrency of first ? [large] : concurrencies) {
            const result = await compare(
              { adapter: coreChain(tokens), sql: db.baseline(), row: db.rowBaseline() },
              { concurrency, runs: ctx.runs, durationMs, meters },
            );
            const measure = `${name} refresh, ${db.label}, ${sizeLabel(size)} sessions`;
            ctx.add({
              section: SECTION,
              measure,
              concurrency,
              unit: "ops/s",
              value: result.adapter,
              baseline: { name: ROTATION, value: result.sql },
              target: concurrency === large ? refreshTarget(name, spec.id) : undefined,
            });
            ctx.add({
              section: SECTION,
              measure,
              concurrency,
              unit: "ops/s",
              value: result.adapter,
              baseline: { name: SINGLE_ROW, value: result.row },
            });
            if (concurrency === large) {
              for (const [meter, cost] of Object.entries(result.adapter.perOp)) {
                const toMicros = (s: Stat) => stat(s.samples.map((ms) => ms * 1000));
                for (const [baseline, measured] of [
                  [ROTATION, result.sql],
                  [SINGLE_ROW, result.row],
                ] as const) {
                  ctx.add({
                    section: SECTION,
                    measure: `${measure}: CPU per refresh in ${meter}`,
                    concurrency,
                    unit: "µs",
                    value: toMicros(cost),
                    baseline: { name: baseline, value: toMicros(measured.perOp[meter] as Stat) },
                    target:
                      baseline === ROTATION && meter.includes("database server")
                        ? SERVER_CPU_TARGET
                        : undefined,
                  });
                }
              }
            }
            if (first && concurrency === large) {
              const retained = (now: Stat, then: Stat) =>
                stat(now.samples.map((v, i) => v / (then.samples[i] as number)));
              ctx.add({
                section: SECTION,
                measure: `${name} refresh, ${db.label}: rate at ${sizeLabel(size)} ÷ rate at ${sizeLabel(spec.sizes[0] as number)}`,
                concurrency,
                unit: "×",
                value: retained(result.adapter, first.adapter),
                baseline: {
                  name: "same for the hand-written rotation",
                  value: retained(result.sql, first.sql),
                },
                target: FLAT_TARGET,
              });
            } else if (!first && concurrency === large) {
              first = { adapter: result.adapter, sql: result.sql };
            }
          }
          if (!first) break;
        }
      } finally {
        await opened.close?.();
      }
    }
  } finally {
    await db.close();
  }
}

export const adaptersSection: Section = {
  id: "adapters",
  title: "Adapters: refresh through core + store vs a hand-written rotation on the same database",
  async run(ctx) {
    const stores = await adapters(ctx);
    if (Object.keys(stores).length === 0) return;
    const only = process.env.BENCH_DATABASES?.split(",");
    for (const spec of databases(envInt("BENCH_POOL_SIZE", 32))) {
      if (only && !only.includes(spec.id)) continue;
      if (spec.missing) {
        ctx.note(SECTION, `${spec.id} skipped: ${spec.missing}`);
        continue;
      }
      try {
        await measureDatabase(ctx, spec, stores);
      } catch (error) {
        ctx.note(SECTION, `${spec.id} failed: ${(error as Error).message.split("\n")[0]}`);
      }
    }
    ctx.note(
      SECTION,
      "Each worker chains refreshes on its own session. Two baselines on the same database, each plus SHA-256 of the token and an EdDSA access token signed with one synchronous crypto.sign. The hand-written rotation (table bench_rotation: hash primary key, session id, used_at; the targets are against it): PostgreSQL and PGlite one CTE statement (UPDATE … WHERE hash = $1 AND used_at IS NULL RETURNING, INSERT the successor), MariaDB a mysql2 transaction (UPDATE, INSERT … SELECT, COMMIT), SQLite one write batch. The hand-written single-row UPDATE (table bench_session: id primary key, subject index, the live and previous hash, generation, idle and absolute expiry, revocation; fillfactor 80 on PostgreSQL), the least a refresh with the store's guarantees can cost: one compare-and-set UPDATE by primary key (live hash, not revoked, not expired) returning the subject — on MariaDB, which has no UPDATE … RETURNING, the UPDATE then a read by primary key. Bulk sessions are loaded with generate_series / seq_1_to_N / a recursive CTE into the adapter's own table (its shipped migrations) and both baseline tables alike. Pools: BENCH_POOL_SIZE connections per side. The CPU-per-refresh rows are measured in the same runs at the highest concurrency: CPU time of the database server's processes (from /proc) and of this process (every thread; it holds the in-process databases too), divided by the refreshes completed; there the ratio is the adapter's CPU over the baseline's, so lower is better.",
    );
  },
};
