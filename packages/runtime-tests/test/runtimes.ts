import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";

/** The runtime-tests package directory: fixtures resolve `@tokens/*` from its node_modules. */
export const packageDir = fileURLToPath(new URL("..", import.meta.url));
const repoDir = join(packageDir, "..", "..");

export const fixture = (name: string) => join(packageDir, "fixtures", name);

/** Runtime binaries, all from npm packages (no system installs). */
export const binaries = {
  node: process.execPath,
  bun: join(packageDir, "node_modules", "bun", "bin", "bun.exe"),
  deno: join(packageDir, "node_modules", "deno", "deno"),
  workerd: join(packageDir, "node_modules", "workerd", "bin", "workerd"),
};

/**
 * `deno run` resolving bare specifiers from the package's node_modules (as Node does), with no
 * lockfile and no prompts. Permissions are added per script: core needs none.
 */
export const denoRun = ["run", "--quiet", "--no-lock", "--no-prompt", "--node-modules-dir=manual"];

/** Keeps runtimes from phoning home or colouring output. */
const childEnv = {
  ...process.env,
  NO_COLOR: "1",
  DENO_NO_UPDATE_CHECK: "1",
  DO_NOT_TRACK: "1",
};

/**
 * These tests run the published artifacts, not the sources: fail early and clearly when a
 * build is missing, rather than with a resolution error inside some runtime.
 */
export function requireBuilt(packages: string[]): void {
  const missing = packages.flatMap((name) =>
    ["index.js", "index.cjs"]
      .map((file) => join(repoDir, "packages", name, "dist", file))
      .filter((path) => !existsSync(path)),
  );
  if (missing.length > 0) {
    throw new Error(
      `runtime-tests run the built packages; run \`pnpm build\` first. Missing:\n  ${missing.join("\n  ")}`,
    );
  }
  for (const [name, path] of Object.entries(binaries)) {
    if (!existsSync(path))
      throw new Error(`the ${name} binary is missing at ${path}; run \`pnpm install\``);
  }
}

/** Runs a script to completion and parses the JSON its last stdout line holds. */
export async function runJson(command: string, args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(command, args, {
    cwd: packageDir,
    env: childEnv,
    timeout: 60_000,
    maxBuffer: 16 * 1024 * 1024,
  }).catch((error: Error & { stderr?: string }) => {
    throw new Error(`${command} ${args.join(" ")} failed: ${error.message}\n${error.stderr ?? ""}`);
  });
  const line = stdout.trim().split("\n").at(-1) ?? "";
  return JSON.parse(line) as Record<string, unknown>;
}

/** A server running in a child process, reachable at `url`. */
export interface RunningServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts a server script that prints `{"port": N}` once listening on 127.0.0.1 (it picks a
 * free port itself, so parallel runs never collide).
 */
export async function startServer(command: string, args: string[]): Promise<RunningServer> {
  const child = spawn(command, args, {
    cwd: packageDir,
    env: childEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const message = await firstJsonLine(child, child.stdout, (m) => typeof m.port === "number");
  return { url: `http://127.0.0.1:${message.port}`, stop: () => stop(child) };
}

/** Bundles a worker module the way Workers tooling does: one ES module, worker conditions. */
export async function bundleWorker(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    absWorkingDir: packageDir,
    write: false,
    logLevel: "silent",
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error(`esbuild produced no output for ${entry}`);
  return output.text;
}

/**
 * Serves a bundled worker with workerd on a loopback port the kernel picks; workerd reports the
 * port on its control descriptor (fd 3) once it listens.
 */
export async function startWorkerd(workerCode: string): Promise<RunningServer> {
  const dir = await mkdtemp(join(tmpdir(), "tokens-workerd-"));
  await writeFile(join(dir, "worker.js"), workerCode);
  await writeFile(
    join(dir, "config.capnp"),
    `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = "2025-09-01",
);
`,
  );
  const child = spawn(binaries.workerd, ["serve", "config.capnp", "--control-fd=3"], {
    cwd: dir,
    env: childEnv,
    stdio: ["ignore", "pipe", "pipe", "pipe"],
  });
  try {
    const message = await firstJsonLine(
      child,
      child.stdio[3] as Readable,
      (m) => m.event === "listen" && m.socket === "http",
    );
    return {
      url: `http://127.0.0.1:${message.port}`,
      stop: async () => {
        await stop(child);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Resolves the first JSON line on `stream` that `accept` takes; rejects if the child exits first. */
function firstJsonLine(
  child: ChildProcess,
  stream: Readable,
  accept: (message: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    let buffered = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${child.spawnfile} did not start within 30 s\n${stderr}`));
    }, 30_000);
    stream.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        try {
          const message = JSON.parse(line) as Record<string, unknown>;
          if (accept(message)) {
            clearTimeout(timer);
            resolve(message);
            return;
          }
        } catch {
          // not a JSON line: ordinary output
        }
      }
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(`${child.spawnfile} exited (${code ?? signal}) before listening\n${stderr}`),
      );
    });
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}
