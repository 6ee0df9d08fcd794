import { type BenchContext, envList, type Section, workspacePackage } from "./lib/context.js";
import { addCpuRow, compareHttp, formRefresh, LoadClient, ServerProcess } from "./load/harness.js";

const SECTION = "http";
const OVERHEAD_TARGET = {
  text: "binding overhead ≤ 20% (≥ 0.83× hand-written route)",
  min: 1 / 1.2,
};

const FRAMEWORKS = [
  { id: "node", label: "node:http + @tokens/http", binding: "@tokens/http" },
  { id: "express", label: "Express", binding: "@tokens/express", version: "express" },
  { id: "fastify", label: "Fastify", binding: "@tokens/fastify", version: "fastify" },
  { id: "hono", label: "Hono (@hono/node-server)", binding: "@tokens/hono", version: "hono" },
] as const;

async function measureFramework(
  ctx: BenchContext,
  client: LoadClient,
  framework: (typeof FRAMEWORKS)[number],
  concurrencies: number[],
): Promise<void> {
  const servers: ServerProcess[] = [];
  try {
    for (const variant of ["binding", "manual", "fixed"]) {
      servers.push(await ServerProcess.start(`${framework.id}-${variant}`));
    }
    const [binding, manual, fixed] = servers as [ServerProcess, ServerProcess, ServerProcess];
    const subjects = {
      binding: {
        name: `${framework.id} binding`,
        server: binding,
        request: formRefresh("/auth/token/refresh"),
      },
      manual: {
        name: `${framework.id} hand-written route`,
        server: manual,
        request: formRefresh("/token"),
      },
      fixed: {
        name: `${framework.id} fixed JSON`,
        server: fixed,
        request: { ...formRefresh("/token"), next: undefined },
      },
    };
    for (const concurrency of concurrencies) {
      ctx.log(`http: ${framework.id} at concurrency ${concurrency}`);
      const result = await compareHttp(ctx, SECTION, client, subjects, concurrency, {
        warmupSec: concurrency === concurrencies[0] ? 1 : 0,
      });
      const row = (
        measure: string,
        value: typeof result.binding,
        name: string,
        baseline: typeof result.binding,
        target?: typeof OVERHEAD_TARGET,
      ) =>
        ctx.add({
          section: SECTION,
          measure,
          concurrency,
          unit: "req/s",
          value,
          baseline: { name, value: baseline },
          target,
        });
      const label = framework.label;
      row(
        `${label}: refresh through the binding`,
        result.binding,
        "same refresh by hand",
        result.manual,
        OVERHEAD_TARGET,
      );
      row(`${label}: refresh through the binding`, result.binding, "fixed JSON", result.fixed);
      row(`${label}: refresh by hand (tokens.refresh)`, result.manual, "fixed JSON", result.fixed);
      if (concurrency === concurrencies.at(-1)) {
        addCpuRow(
          ctx,
          {
            section: SECTION,
            measure: `${label}: server CPU per refresh through the binding`,
            concurrency,
          },
          result.binding,
          { name: "same refresh by hand", value: result.manual },
        );
      }
    }
  } finally {
    await Promise.all(servers.map((s) => s.close()));
  }
}

export const httpSection: Section = {
  id: "http",
  title: "HTTP: refresh requests through each binding vs the same framework",
  async run(ctx) {
    const concurrencies = envList("BENCH_HTTP_CONCURRENCY", [1, 8, 32]);
    const only = process.env.BENCH_FRAMEWORKS?.split(",");
    const client = LoadClient.start();
    try {
      for (const framework of FRAMEWORKS) {
        if (only && !only.includes(framework.id)) continue;
        const available = await workspacePackage(framework.binding);
        if (available.reason) {
          ctx.note(SECTION, `${framework.label} skipped: ${available.reason}`);
          continue;
        }
        try {
          await measureFramework(ctx, client, framework, concurrencies);
        } catch (error) {
          ctx.note(
            SECTION,
            `${framework.label} failed: ${(error as Error).message.split("\n")[0]}`,
          );
        }
      }
    } finally {
      await client.close();
    }
    ctx.note(
      SECTION,
      "Three servers per framework, each in its own process, on the memory store: the binding's refresh endpoint (POST /auth/token/refresh, form body), the same refresh written by hand as a route calling tokens.refresh (POST /token), and a route answering a fixed JSON body of the same size. The binding's overhead is its cost over the hand-written route (target: at most 20% more time per request); the fixed-JSON column shows how much of the framework's ceiling a refresh leaves, most of it being core's signing and rotation. At the highest concurrency, the server-CPU row gives the CPU time of the server process (all its threads, from /proc) per answered refresh in the same runs: steadier than rates, because the load client's share of the cores does not enter it.",
    );
  },
};
