/**
 * One workload at a time, for a CPU profile of just that:
 *   pnpm --filter bench cpu-profile <scenario> [seconds]   (writes bench/.profiles/*.cpuprofile)
 *   pnpm --filter bench exec tsx src/profile-summary.ts .profiles/<file>.cpuprofile
 * Scenarios: verify-eddsa, verify-hs256, sign-eddsa, refresh-memory, refresh-minimal,
 * refresh-drizzle-pg,
 * refresh-prisma-pg (the last two need POSTGRES_URL). HTTP servers are profiled by running the
 * benchmark with BENCH_CPU_PROF=<dir>, which starts every server process with --cpu-prof.
 */
import { createTokens, generateSigningKey, type TokenStore } from "@tokens/core";
import { memoryStore } from "@tokens/memory";
import { migrationStatements } from "./adapters/database.js";
import { coreChain } from "./core.js";
import { throughput, type WorkerFactory } from "./lib/measure.js";

async function tokensWith(store: TokenStore, alg: "EdDSA" | "HS256" = "EdDSA") {
  return createTokens({
    issuer: "https://auth.example.com",
    audience: "https://api.example.com",
    keys: [await generateSigningKey(alg, { kid: "bench" })],
    store,
  });
}

async function postgresStore(adapter: "drizzle" | "prisma"): Promise<TokenStore> {
  const url = process.env.POSTGRES_URL;
  if (!url) throw new Error("POSTGRES_URL is not set");
  const { openPostgres } = await import("./adapters/postgres.js");
  const db = await openPostgres(url, 32);
  await db.reset(migrationStatements(adapter, "postgresql"));
  await db.fill(0, 10_000);
  if (adapter === "drizzle") {
    const { drizzleStore } = await import("@tokens/drizzle");
    return drizzleStore((await db.drizzle()) as never);
  }
  const { prismaStore } = await import("@tokens/prisma");
  const { prismaClient } = await import("./adapters/prisma-client.js");
  const PrismaClient = await prismaClient("postgresql");
  return prismaStore(new PrismaClient({ adapter: await db.prismaAdapter() }) as never);
}

const scenarios: Record<string, () => Promise<{ factory: WorkerFactory; concurrency: number }>> = {
  "verify-eddsa": async () => {
    const tokens = await tokensWith(memoryStore());
    const token = (await tokens.issue({ subject: "u" })).access_token;
    return { factory: () => () => tokens.verifyAccessToken(token), concurrency: 32 };
  },
  "verify-hs256": async () => {
    const tokens = await tokensWith(memoryStore(), "HS256");
    const token = (await tokens.issue({ subject: "u" })).access_token;
    return { factory: () => () => tokens.verifyAccessToken(token), concurrency: 32 };
  },
  "sign-eddsa": async () => {
    const tokens = await tokensWith(memoryStore());
    return { factory: () => () => tokens.issue({ subject: "u" }), concurrency: 32 };
  },
  "refresh-memory": async () => ({
    factory: coreChain(await tokensWith(memoryStore())),
    concurrency: 32,
  }),
  "refresh-minimal": async () => {
    const { createMinimal } = await import("./servers/minimal-logic.js");
    const minimal = await createMinimal();
    return {
      factory: async (worker) => {
        let token = (await minimal.issue(`user-${worker}`)).refresh_token;
        return async () => {
          token = ((await minimal.refresh(token)) as { refresh_token: string }).refresh_token;
        };
      },
      concurrency: 32,
    };
  },
  "refresh-drizzle-pg": async () => ({
    factory: coreChain(await tokensWith(await postgresStore("drizzle"))),
    concurrency: 32,
  }),
  "refresh-prisma-pg": async () => ({
    factory: coreChain(await tokensWith(await postgresStore("prisma"))),
    concurrency: 32,
  }),
};

const [name = "", seconds = "10"] = process.argv.slice(2);
const scenario = scenarios[name];
if (!scenario) {
  console.error(`scenarios: ${Object.keys(scenarios).join(", ")}`);
  process.exit(2);
}
const { factory, concurrency } = await scenario();
const rate = await throughput(factory, concurrency, Number(seconds) * 1000);
console.log(`${name}: ${rate.toFixed(0)} ops/s at concurrency ${concurrency}`);
process.exit(0);
