/*
 * FerretDB (a MongoDB wire-protocol server, SQLite backend) as a child process: the server the
 * MongoDB suites run against when MONGODB_URL names none, and the private server the restart test
 * stops and starts. The binary is built once per machine by `scripts/ferretdb.sh build` (run by
 * scripts/bootstrap.sh); each instance keeps its SQLite files in a temporary folder of its own
 * and listens on a free loopback port, so instances never share data.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { freePort } from "../../../reliability/test/restart-kit.js";

/** `clean`: FerretDB's orderly shutdown (SIGTERM). `crash`: the process dies (SIGKILL). */
export type StopMode = "clean" | "crash";

/** One FerretDB on 127.0.0.1, running once `startFerretdb` resolved. */
export interface FerretdbServer {
  /** `mongodb://127.0.0.1:<port>/`: no database, a direct connection. */
  readonly url: string;
  /** What it is, for reports: `FerretDB v1.24.2 (SQLite)`. */
  readonly name: string;
  /** Starts it again on the same data folder and port; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it; resolves once the process has exited. */
  stop(mode: StopMode): Promise<void>;
  /** Kills it if it runs and deletes its data folder. */
  destroy(): Promise<void>;
}

const SCRIPT = fileURLToPath(new URL("../../../../scripts/ferretdb.sh", import.meta.url));
/** Safety net only: FerretDB starts and stops in well under a second. */
const PROCESS_DEADLINE_MS = 30_000;
const LOG_LINES = 60;

const running = new Set<ChildProcess>();
// A test run that dies must not leave servers behind on the machine.
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/**
 * The cached FerretDB binary, or why there is none (`{ missing }`). Never builds: that is
 * bootstrap's job, and a test run must not spend minutes compiling.
 */
export function ferretdbBinary(): { path: string } | { missing: string } {
  try {
    return { path: execFileSync("bash", [SCRIPT, "path"], { stdio: "pipe" }).toString().trim() };
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? error).trim();
    return { missing: stderr || "scripts/ferretdb.sh path failed" };
  }
}

/** The FerretDB version the binary reports, e.g. `v1.24.2`. */
function versionOf(binary: string): string {
  const out = execFileSync(binary, ["--version"], { stdio: "pipe" }).toString();
  return /^version: (\S+)$/m.exec(out)?.[1] ?? "unknown";
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * Starts a FerretDB with the SQLite backend on a fresh temporary folder and a free loopback
 * port. Telemetry and the debug HTTP listener are off: it opens no other socket.
 *
 * @example
 * ```ts
 * const server = await startFerretdb(binary);
 * const client = new MongoClient(server.url);
 * await server.stop("crash");
 * await server.start(); // same data, same port
 * await server.destroy();
 * ```
 */
export async function startFerretdb(binary: string): Promise<FerretdbServer> {
  const dir = mkdtempSync(join(tmpdir(), "tokens-ferretdb-"));
  const port = await freePort();
  const args = [
    "--handler=sqlite",
    // A directory URI: one SQLite file per database inside it.
    `--sqlite-url=file:${dir}/`,
    `--state-dir=${dir}`,
    `--listen-addr=127.0.0.1:${port}`,
    "--debug-addr=-",
    "--telemetry=disable",
    // Errors only: at `warn` it logs every refused command with its full reply.
    "--log-level=error",
  ];
  let child: ChildProcess | undefined;
  const log: string[] = [];
  const tail = () => log.slice(-LOG_LINES).join("\n");

  const deadline = async <T>(promise: Promise<T>, what: string): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${what}: no answer within ${PROCESS_DEADLINE_MS} ms\n${tail()}`)),
        PROCESS_DEADLINE_MS,
      );
    });
    try {
      return await Promise.race([promise, late]);
    } finally {
      clearTimeout(timer);
    }
  };

  const server: FerretdbServer = {
    url: `mongodb://127.0.0.1:${port}/`,
    name: `FerretDB ${versionOf(binary)} (SQLite)`,
    async start() {
      const started = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
      child = started;
      running.add(started);
      started.once("exit", () => running.delete(started));
      for (const stream of [started.stdout, started.stderr]) {
        createInterface({ input: stream as NodeJS.ReadableStream }).on("line", (line) => {
          log.push(line);
          if (log.length > LOG_LINES * 2) log.splice(0, LOG_LINES);
        });
      }
      const exited = new Promise<never>((_, reject) => {
        started.once("error", reject);
        started.once("exit", (code, signal) =>
          reject(new Error(`FerretDB exited (${code ?? signal}) before it was ready\n${tail()}`)),
        );
      });
      exited.catch(() => {});
      const ready = (async () => {
        while (!(await accepts(port))) await new Promise((resolve) => setTimeout(resolve, 20));
      })();
      await deadline(Promise.race([ready, exited]), "starting FerretDB");
    },
    async stop(mode) {
      const current = child;
      if (!current || current.exitCode !== null || current.signalCode !== null) return;
      const exited = new Promise((resolve) => current.once("exit", resolve));
      current.kill(mode === "clean" ? "SIGTERM" : "SIGKILL");
      await deadline(exited, `stopping FerretDB (${mode})`);
    },
    async destroy() {
      await server.stop("crash");
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await server.start();
  } catch (error) {
    await server.destroy();
    throw error;
  }
  return server;
}
