import { existsSync } from "node:fs";
import { type BenchContext, envList, repoRoot, type Section } from "./lib/context.js";
import { installedVersion } from "./lib/machine.js";
import {
  addCpuRow,
  compareHttp,
  formRefresh,
  type HttpMeasured,
  type HttpSubject,
  LoadClient,
  ServerProcess,
} from "./load/harness.js";

const SECTION = "peer";

export const peerSection: Section = {
  id: "peer",
  title: "Refresh endpoints: quickstart vs the in-memory limit vs node-oidc-provider",
  async run(ctx: BenchContext) {
    const concurrencies = envList("BENCH_HTTP_CONCURRENCY", [1, 8, 32]);
    const client = LoadClient.start();
    const servers: ServerProcess[] = [];
    const start = async (target: string) => {
      const server = await ServerProcess.start(target);
      servers.push(server);
      return server;
    };
    try {
      const subjects: Record<string, HttpSubject> = {
        minimal: {
          name: "minimal node:http",
          server: await start("minimal"),
          request: formRefresh("/token"),
        },
        coreNode: {
          name: "core on node:http",
          server: await start("core-node"),
          request: formRefresh("/token"),
        },
        oidc: {
          name: "oidc-provider",
          server: await start("oidc-provider"),
          request: formRefresh("/token", "&client_id=bench"),
        },
      };
      const quickstart = await quickstartSubject(ctx, start);
      if (quickstart) subjects.quickstart = quickstart;

      for (const concurrency of concurrencies) {
        ctx.log(`peer: concurrency ${concurrency}`);
        const result = await compareHttp(ctx, SECTION, client, subjects, concurrency, {
          warmupSec: concurrency === concurrencies[0] ? 1 : 0,
        });
        // Both servers are always among the subjects.
        const minimal = { name: "minimal node:http", value: result.minimal as HttpMeasured };
        const oidc = { name: "oidc-provider", value: result.oidc as HttpMeasured };
        const row = (
          measure: string,
          value: unknown,
          baseline: typeof minimal,
          target?: { text: string; min: number },
        ) =>
          ctx.add({
            section: SECTION,
            measure,
            concurrency,
            unit: "req/s",
            value: value as never,
            baseline,
            target,
          });
        if (result.quickstart) {
          row("quickstart refresh endpoint", result.quickstart, minimal, {
            text: "quickstart ≥ 0.8× minimal endpoint",
            min: 0.8,
          });
          row("quickstart refresh endpoint", result.quickstart, oidc, {
            text: "quickstart ≥ 2.5× oidc-provider",
            min: 2.5,
          });
        }
        row("core on node:http, hand-written glue", result.coreNode, minimal);
        row("core on node:http, hand-written glue", result.coreNode, oidc);
        row("oidc-provider /token refresh", result.oidc, minimal);
        if (concurrency === concurrencies.at(-1)) {
          const cpu = (
            measure: string,
            value: HttpMeasured | undefined,
            baseline: typeof minimal,
          ) => {
            const where = {
              section: SECTION,
              measure: `${measure}: server CPU per refresh`,
              concurrency,
            };
            if (value) addCpuRow(ctx, where, value, baseline);
          };
          cpu("quickstart refresh endpoint", result.quickstart, minimal);
          cpu("quickstart refresh endpoint", result.quickstart, oidc);
          cpu("core on node:http, hand-written glue", result.coreNode, minimal);
          cpu("oidc-provider /token refresh", result.oidc, minimal);
        }
      }
    } finally {
      await Promise.all(servers.map((s) => s.close()));
      await client.close();
    }
    ctx.note(
      SECTION,
      `oidc-provider ${installedVersion("oidc-provider") ?? "?"}: rotateRefreshToken on, public client, JWT access tokens signed with EdDSA for one resource server, its in-memory adapter, no ID token; the refresh token is created through its Grant and RefreshToken models. It warns that Node 20 is not a runtime it supports.`,
    );
    ctx.note(
      SECTION,
      "Each autocannon connection is a client that presents the refresh token it received last, so every request is a real rotation; the load client runs in its own process. Only 2xx answers count. The server-CPU rows (highest concurrency, same runs) give the CPU time of each server process, all its threads, per answered refresh; their ratio is subject over baseline, so lower is better.",
    );
  },
};

async function quickstartSubject(
  ctx: BenchContext,
  start: (target: string) => Promise<ServerProcess>,
): Promise<HttpSubject | undefined> {
  if (!existsSync(`${repoRoot}examples/quickstart/src/index.ts`)) {
    ctx.note(SECTION, "examples/quickstart is not there yet: its rows are skipped");
    return undefined;
  }
  try {
    const server = await start("quickstart");
    return { name: "quickstart", server, request: formRefresh("/auth/token/refresh") };
  } catch (error) {
    ctx.note(
      SECTION,
      `quickstart could not start, rows skipped: ${(error as Error).message.split("\n")[0]}`,
    );
    return undefined;
  }
}
