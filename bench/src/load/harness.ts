import { type ChildProcess, fork } from "node:child_process";
import { appendFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { BenchContext } from "../lib/context.js";
import { type Meter, processCpuOf } from "../lib/cpu.js";
import { type Stat, stat } from "../lib/stats.js";
import type { LoadJob, LoadResult, RequestSpec, ServerCommand, ServerMessage } from "./protocol.js";

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
// tsx reads the tsconfig (and its paths to the workspace sources) from the working directory.
const benchDir = fileURLToPath(new URL("../../", import.meta.url));

/** Node flags for children: run TypeScript through tsx, and profile when BENCH_CPU_PROF is set. */
function execArgv(profile: boolean): string[] {
  const args = ["--import", "tsx"];
  const dir = process.env.BENCH_CPU_PROF;
  if (profile && dir) {
    mkdirSync(dir, { recursive: true });
    args.push("--cpu-prof", `--cpu-prof-dir=${dir}`);
  }
  return args;
}

/** A server under test in its own process (see `load/server.ts` and `servers/targets.ts`). */
export class ServerProcess {
  private seq = 0;
  private readonly waiting = new Map<number, (tokens: string[]) => void>();
  /** CPU time of the server process (every thread), where the OS lets us read it. */
  readonly cpu: Meter | undefined;

  private constructor(
    readonly target: string,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    this.cpu = child.pid === undefined ? undefined : processCpuOf(child.pid);
    child.on("message", (message: ServerMessage) => {
      if (message.type === "seeded") {
        this.waiting.get(message.id)?.(message.tokens);
        this.waiting.delete(message.id);
      }
    });
  }

  static start(target: string, env: Record<string, string> = {}): Promise<ServerProcess> {
    const child = fork(here("./server.ts"), [target], {
      execArgv: execArgv(true),
      cwd: benchDir,
      env: { ...process.env, ...env, NODE_ENV: "production" },
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    // Profiles are named after the process id; this file says which server each one is.
    const profiles = process.env.BENCH_CPU_PROF;
    if (profiles) appendFileSync(`${profiles}/servers.txt`, `${child.pid} ${target}\n`);
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    return new Promise((resolve, reject) => {
      child.once("exit", (code) => reject(new Error(`${target} exited (${code}): ${stderr}`)));
      child.on("message", (message: ServerMessage) => {
        if (message.type === "ready") resolve(new ServerProcess(target, message.port, child));
        if (message.type === "error") reject(new Error(`${target}: ${message.message}`));
      });
    });
  }

  seed(count: number): Promise<string[]> {
    const id = ++this.seq;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.child.send({ type: "seed", id, count } satisfies ServerCommand);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.child.once("exit", () => resolve());
      this.child.send({ type: "close" } satisfies ServerCommand);
    });
  }
}

/** The autocannon process. */
export class LoadClient {
  private seq = 0;
  private readonly waiting = new Map<number, (result: LoadResult) => void>();

  private constructor(private readonly child: ChildProcess) {
    child.on("message", (message: LoadResult) => {
      this.waiting.get(message.id)?.(message);
      this.waiting.delete(message.id);
    });
  }

  static start(): LoadClient {
    return new LoadClient(
      fork(here("./client.ts"), [], {
        execArgv: execArgv(false),
        cwd: benchDir,
        stdio: "inherit",
      }),
    );
  }

  run(port: number, request: RequestSpec, tokens: string[], durationSec: number) {
    const id = ++this.seq;
    return new Promise<LoadResult>((resolve) => {
      this.waiting.set(id, resolve);
      this.child.send({
        type: "run",
        id,
        port,
        request,
        tokens,
        durationSec,
      } satisfies LoadJob);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.child.once("exit", () => resolve());
      this.child.send({ type: "close" });
    });
  }
}

/** One thing to load: a running server and the refresh request it answers. */
export interface HttpSubject {
  name: string;
  server: ServerProcess;
  request: RequestSpec;
}

/** A subject's requests per second and, where it can be read, its server's CPU per request. */
export type HttpMeasured = Stat & {
  /** CPU time of the server process (all its threads) per 2xx answer, in µs. */
  cpuPerRequest?: Stat;
};

/**
 * Requests per second (2xx only) of each subject at one concurrency, runs interleaved as in
 * `compare`, with the server process's CPU per request measured over the same runs. Every run
 * starts from freshly seeded sessions; a failing answer is reported as a note.
 */
export async function compareHttp<K extends string>(
  ctx: BenchContext,
  section: string,
  client: LoadClient,
  subjects: Record<K, HttpSubject>,
  concurrency: number,
  options: { warmupSec?: number } = {},
): Promise<Record<K, HttpMeasured>> {
  const names = Object.keys(subjects) as K[];
  const rates = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>;
  const cpu = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>;
  const once = async (name: K, durationSec: number) => {
    const subject = subjects[name];
    const tokens = await subject.server.seed(concurrency);
    const before = subject.server.cpu?.();
    const result = await client.run(subject.server.port, subject.request, tokens, durationSec);
    const after = subject.server.cpu?.();
    if (result.failed > 0 || result.errors > 0) {
      ctx.note(
        section,
        `${subject.name} @${concurrency}: ${result.failed} failed answers, ${result.errors} connection errors out of ${result.ok + result.failed}${result.failure ? ` (first: ${result.failure})` : ""}`,
      );
    }
    const perRequest =
      before === undefined || after === undefined || result.ok === 0
        ? undefined
        : ((after - before) * 1000) / result.ok;
    return { rate: result.rate, perRequest };
  };
  if (options.warmupSec) for (const name of names) await once(name, options.warmupSec);
  for (let run = 0; run < ctx.runs; run++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(run + i) % names.length] as K;
      const { rate, perRequest } = await once(name, ctx.httpDurationSec);
      rates[name].push(rate);
      if (perRequest !== undefined && Number.isFinite(perRequest)) cpu[name].push(perRequest);
    }
  }
  return Object.fromEntries(
    names.map((n) => {
      const measured: HttpMeasured = stat(rates[n]);
      // Only with a reading for every run, so the samples pair up run by run with others'.
      if (cpu[n].length === ctx.runs) measured.cpuPerRequest = stat(cpu[n]);
      return [n, measured];
    }),
  ) as Record<K, HttpMeasured>;
}

/**
 * A row of the server process's CPU per request, subject beside baseline (µs; the ratio is
 * subject over baseline, so lower is better), when both could be measured.
 */
export function addCpuRow(
  ctx: BenchContext,
  row: { section: string; measure: string; concurrency: number },
  value: HttpMeasured,
  baseline: { name: string; value: HttpMeasured },
): void {
  if (!value.cpuPerRequest || !baseline.value.cpuPerRequest) return;
  ctx.add({
    ...row,
    unit: "µs",
    value: value.cpuPerRequest,
    baseline: { name: baseline.name, value: baseline.value.cpuPerRequest },
  });
}

/** The refresh grant as a form body (RFC 6749 §6), which every server here accepts. */
export function formRefresh(path: string, extra = ""): RequestSpec {
  return {
    method: "POST",
    path,
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: `grant_type=refresh_token&refresh_token={token}${extra}`,
    next: "refresh_token",
  };
}
