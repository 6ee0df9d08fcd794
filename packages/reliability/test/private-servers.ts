/*
 * Private PostgreSQL and MariaDB servers for tests that stop, crash and restart their database.
 * Each instance lives in its own temporary directory on a free loopback port, so stopping it
 * never disturbs the shared servers that other suites use at the same time. Durability settings
 * stay at the servers' defaults (fsync, synchronous commit, InnoDB log flush at every commit), so
 * a commit the server acknowledged must survive a crash of the server.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  accessSync,
  appendFileSync,
  chownSync,
  constants,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { createInterface } from "node:readline";
import mysql from "mysql2/promise";
import pg from "pg";
import { describe } from "vitest";
import { freePort } from "./restart-kit.js";

/** `clean`: the server's orderly shutdown. `crash`: the process dies without one. */
export type StopMode = "clean" | "crash";

/**
 * One private database server on 127.0.0.1, running once `start` resolved.
 *
 * @example
 * ```ts
 * const server = await privatePostgres();
 * await server.stop("crash");
 * await server.start(); // crash recovery on the same data directory and port
 * await server.destroy();
 * ```
 */
export interface PrivateServer {
  /** The server's connection URL, without a database. */
  readonly url: string;
  /** How each stop mode is done, for test names and reports. */
  readonly stops: Record<StopMode, string>;
  /** Starts the server on its data directory; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops the server; resolves once its process has exited. */
  stop(mode: StopMode): Promise<void>;
  /** Kills the server if it runs and deletes its directory. */
  destroy(): Promise<void>;
  /**
   * Until the server stops, every commit is made durable but not answered: it waits for the
   * acknowledgement of a replica that does not exist (PostgreSQL synchronous replication,
   * MariaDB semi-synchronous replication). Stopping the server then loses the answers of
   * committed transactions, as when a server dies right after a commit.
   */
  holdCommits(): Promise<void>;
  /** How many commits wait for that acknowledgement now. */
  heldCommits(): Promise<number>;
}

/** Safety net only: a healthy start, recovery or stop takes a few seconds at most. */
const PROCESS_DEADLINE_MS = 30_000;
const LOG_LINES = 60;

const isRoot = process.getuid?.() === 0;
const running = new Set<ChildProcess>();
// A test run that dies must not leave servers behind on the machine.
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `name` on PATH or in one of `dirs` (sbin directories are often off a user's PATH). */
function findExecutable(name: string, dirs: string[] = []): string | undefined {
  const path = process.env.PATH ?? "";
  return [...path.split(delimiter), ...dirs]
    .filter(Boolean)
    .map((dir) => join(dir, name))
    .find(executable);
}

/** Debian keeps each PostgreSQL major's server binaries off PATH, under its version number. */
function postgresBinDir(): string | undefined {
  const debian = "/usr/lib/postgresql";
  let versions: string[] = [];
  try {
    versions = readdirSync(debian).sort((a, b) => Number(b) - Number(a));
  } catch {
    // Not a Debian layout: fall back to PATH below.
  }
  const dirs = versions.map((version) => join(debian, version, "bin"));
  const onPath = findExecutable("initdb");
  if (onPath) dirs.push(join(onPath, ".."));
  return dirs.find((dir) => executable(join(dir, "initdb")) && executable(join(dir, "postgres")));
}

const SETPRIV = findExecutable("setpriv", ["/usr/bin", "/bin"]);

/** Why a private server of this kind cannot be started here, or `undefined` when it can. */
function missing(needs: Record<string, string | undefined>): string | undefined {
  const absent = Object.entries(needs)
    .filter(([, found]) => found === undefined)
    .map(([what]) => what);
  return absent.length > 0 ? `not found: ${absent.join(", ")}` : undefined;
}

function userIds(user: string): { uid: number; gid: number } | undefined {
  try {
    const id = (flag: string) => Number(execFileSync("id", [flag, user]).toString().trim());
    return { uid: id("-u"), gid: id("-g") };
  } catch {
    return undefined;
  }
}

const POSTGRES_BIN = postgresBinDir();
// PostgreSQL refuses to run as root: as root, its processes run as the `postgres` account.
const POSTGRES_USER = isRoot ? userIds("postgres") : undefined;

/** Why a private PostgreSQL cannot start on this machine, or `undefined`. */
export const postgresMissing = missing({
  "PostgreSQL server binaries (initdb, postgres)": POSTGRES_BIN,
  ...(isRoot ? { setpriv: SETPRIV, "the postgres account": POSTGRES_USER && "yes" } : {}),
});

const MARIADBD = findExecutable("mariadbd", ["/usr/sbin", "/usr/local/sbin"]);
const MARIADB_INSTALL_DB = findExecutable("mariadb-install-db", ["/usr/bin", "/usr/local/bin"]);

/** Why a private MariaDB cannot start on this machine, or `undefined`. */
export const mariadbMissing = missing({
  mariadbd: MARIADBD,
  "mariadb-install-db": MARIADB_INSTALL_DB,
});

/**
 * `describe` when a private server can start. Otherwise `describe` still when
 * TOKENS_REQUIRE_SERVERS=1 (CI sets it: the suite's start then fails and names what is missing),
 * or `describe.skip` with one loud warning line.
 *
 * @example
 * ```ts
 * describeWithPrivateServer("PostgreSQL", postgresMissing)("restarts (PostgreSQL)", () => {});
 * ```
 */
export function describeWithPrivateServer(
  suite: string,
  absent: string | undefined,
): typeof describe {
  if (absent === undefined || process.env.TOKENS_REQUIRE_SERVERS === "1") return describe;
  console.warn(`[@tokens/reliability] skipped the private ${suite} suite: ${absent}`);
  return describe.skip as typeof describe;
}

/** Rejects, describing the server's state by `what()`, if `promise` has not settled in time. */
async function withinDeadline<T>(promise: Promise<T>, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what()}: no answer within ${PROCESS_DEADLINE_MS} ms`)),
      PROCESS_DEADLINE_MS,
    );
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** `command`, run as `user` when this process is root (setpriv execs, keeping the pid). */
function asUser(user: { uid: number; gid: number } | undefined, command: string, args: string[]) {
  if (!user) return { command, args };
  return {
    command: SETPRIV as string,
    args: [`--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", command, ...args],
  };
}

type Row = Record<string, unknown>;

interface ServerProcess {
  name: string;
  url: string;
  command: { command: string; args: string[] };
  /** The log line the server prints once it accepts connections (after any recovery). */
  ready: RegExp;
  signals: Record<StopMode, NodeJS.Signals>;
  stops: Record<StopMode, string>;
  dir: string;
  /** Runs one statement on a connection of its own: the server stops between calls. */
  query(statement: string): Promise<Row[]>;
  /** Makes commits wait for the absent replica; see {@link PrivateServer.holdCommits}. */
  holdCommits(): Promise<void>;
  /** Selects `held`, the number of sessions whose commit waits for that replica. */
  heldQuery: string;
  /** Ends the hold once the process has exited, where the server would keep it. */
  afterStop?: () => void;
}

/** Runs a server process, started: stop by signal, restart on the same data. */
async function serverProcess(spec: ServerProcess): Promise<PrivateServer> {
  let child: ChildProcess | undefined;
  const log: string[] = [];
  const tail = () => log.slice(-LOG_LINES).join("\n");

  const stop = async (signal: NodeJS.Signals) => {
    const current = child;
    if (!current || current.exitCode !== null || current.signalCode !== null) return;
    const exited = new Promise((resolve) => current.once("exit", resolve));
    current.kill(signal);
    await withinDeadline(exited, () => `stopping ${spec.name} (${signal})\n${tail()}`);
  };

  const server: PrivateServer = {
    url: spec.url,
    stops: spec.stops,
    async start() {
      const started = spawn(spec.command.command, spec.command.args, {
        stdio: ["ignore", "pipe", "pipe"],
      });
      child = started;
      running.add(started);
      started.once("exit", () => running.delete(started));
      const ready = new Promise<void>((resolve, reject) => {
        for (const stream of [started.stdout, started.stderr]) {
          createInterface({ input: stream as NodeJS.ReadableStream }).on("line", (line) => {
            log.push(line);
            if (log.length > LOG_LINES * 2) log.splice(0, LOG_LINES);
            if (spec.ready.test(line)) resolve();
          });
        }
        started.once("error", reject);
        started.once("exit", (code, signal) =>
          reject(
            new Error(`${spec.name} exited (${code ?? signal}) before it was ready\n${tail()}`),
          ),
        );
      });
      await withinDeadline(ready, () => `starting ${spec.name}\n${tail()}`);
    },
    async stop(mode) {
      await stop(spec.signals[mode]);
      spec.afterStop?.();
    },
    async destroy() {
      await stop(spec.signals.crash);
      rmSync(spec.dir, { recursive: true, force: true });
    },
    holdCommits: () => spec.holdCommits(),
    async heldCommits() {
      const [row] = await spec.query(spec.heldQuery);
      return Number(row?.held);
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

function run(what: string, command: { command: string; args: string[] }) {
  try {
    execFileSync(command.command, command.args, { stdio: "pipe" });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`${what} failed: ${String(error)}\n${stdout ?? ""}${stderr ?? ""}`);
  }
}

/**
 * A fresh PostgreSQL cluster (user `postgres`, trust authentication) in a temporary directory,
 * started. `clean` stops it with a fast shutdown (SIGINT: sessions are ended, a checkpoint is
 * written); `crash` with an immediate one (SIGQUIT: every process quits at once, the restart
 * replays the WAL).
 *
 * @example
 * ```ts
 * const server = await privatePostgres();
 * const pool = new pg.Pool({ connectionString: `${server.url}postgres` });
 * ```
 */
export async function privatePostgres(): Promise<PrivateServer> {
  if (postgresMissing) throw new Error(`cannot start a private PostgreSQL: ${postgresMissing}`);
  const bin = POSTGRES_BIN as string;
  const dir = mkdtempSync(join(tmpdir(), "tokens-pg-"));
  if (POSTGRES_USER) chownSync(dir, POSTGRES_USER.uid, POSTGRES_USER.gid);
  const data = join(dir, "data");
  const port = await freePort();
  try {
    // --no-sync only skips flushing the fresh cluster's files; the server itself keeps fsync on.
    run(
      "initdb",
      asUser(POSTGRES_USER, join(bin, "initdb"), [
        `--pgdata=${data}`,
        "--username=postgres",
        "--auth=trust",
        "--encoding=UTF8",
        "--locale=C",
        "--no-sync",
      ]),
    );
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  // holdCommits writes this file; PostgreSQL reads it, when present, on start and on reload.
  const holdFile = join(dir, "hold-commits.conf");
  appendFileSync(join(data, "postgresql.conf"), `include_if_exists = '${holdFile}'\n`);
  const url = `postgres://postgres@127.0.0.1:${port}/`;
  const query = async (statement: string) => {
    const client = new pg.Client({ connectionString: `${url}postgres` });
    await client.connect();
    try {
      return (await client.query(statement)).rows as Row[];
    } finally {
      await client.end();
    }
  };
  return serverProcess({
    name: "private PostgreSQL",
    url,
    command: asUser(POSTGRES_USER, join(bin, "postgres"), [
      "-D",
      data,
      "-p",
      String(port),
      // The socket goes in the private directory, never next to the shared server's.
      "-k",
      dir,
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "shared_buffers=16MB",
      "-c",
      "max_connections=40",
    ]),
    ready: /database system is ready to accept connections/,
    signals: { clean: "SIGINT", crash: "SIGQUIT" },
    stops: { clean: "fast shutdown", crash: "immediate shutdown" },
    dir,
    query,
    async holdCommits() {
      writeFileSync(holdFile, "synchronous_standby_names = 'absent_replica'\n", { mode: 0o644 });
      await query("SELECT pg_reload_conf()");
    },
    heldQuery: "SELECT count(*) AS held FROM pg_stat_activity WHERE wait_event = 'SyncRep'",
    // The hold ends with the server, as a run-time setting would.
    afterStop: () => rmSync(holdFile, { force: true }),
  });
}

/**
 * The private MariaDB's options, at install and at every start. Small InnoDB files and no
 * buffer-pool dumps: it starts and stops in about a second.
 */
const MARIADB_OPTIONS = [
  "--innodb-buffer-pool-size=32M",
  "--innodb-log-file-size=16M",
  "--innodb-temp-data-file-path=ibtmp1:1M:autoextend",
  "--innodb-buffer-pool-dump-at-shutdown=OFF",
  "--innodb-buffer-pool-load-at-startup=OFF",
  // Semi-synchronous replication, which holdCommits uses, needs the binary log.
  "--log-bin=binlog",
  "--server-id=1",
  // mariadbd refuses root unless told to run as root.
  ...(isRoot ? ["--user=root"] : []),
];

/**
 * A fresh MariaDB data directory (`root` without a password) in a temporary directory, server
 * started. `clean` stops it with SIGTERM (normal shutdown); `crash` with SIGKILL (InnoDB crash
 * recovery on restart).
 *
 * @example
 * ```ts
 * const server = await privateMariadb();
 * const pool = mysql.createPool({ uri: server.url });
 * ```
 */
export async function privateMariadb(): Promise<PrivateServer> {
  if (mariadbMissing) throw new Error(`cannot start a private MariaDB: ${mariadbMissing}`);
  const dir = mkdtempSync(join(tmpdir(), "tokens-mariadb-"));
  const data = join(dir, "data");
  const port = await freePort();
  try {
    run("mariadb-install-db", {
      command: MARIADB_INSTALL_DB as string,
      args: [
        // Never the machine's my.cnf: it names the shared server's socket and data directory.
        "--no-defaults",
        `--datadir=${data}`,
        "--auth-root-authentication-method=normal",
        "--skip-test-db",
        ...MARIADB_OPTIONS,
      ],
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const url = `mysql://root@127.0.0.1:${port}/`;
  const query = async (statement: string) => {
    const connection = await mysql.createConnection(url);
    try {
      return (await connection.query(statement))[0] as Row[];
    } finally {
      await connection.end();
    }
  };
  return serverProcess({
    name: "private MariaDB",
    url,
    command: {
      command: MARIADBD as string,
      args: [
        "--no-defaults",
        `--datadir=${data}`,
        `--port=${port}`,
        "--bind-address=127.0.0.1",
        `--socket=${join(dir, "mysqld.sock")}`,
        `--pid-file=${join(dir, "mysqld.pid")}`,
        ...MARIADB_OPTIONS,
      ],
    },
    ready: /ready for connections/,
    signals: { clean: "SIGTERM", crash: "SIGKILL" },
    stops: { clean: "SIGTERM", crash: "SIGKILL" },
    dir,
    query,
    // Global variables set at run time end with the server: a restart answers commits again.
    async holdCommits() {
      await query("SET GLOBAL rpl_semi_sync_master_timeout = 600000");
      await query("SET GLOBAL rpl_semi_sync_master_enabled = ON");
    },
    heldQuery:
      "SELECT count(*) AS held FROM information_schema.processlist WHERE state LIKE 'Waiting for semi-sync ACK%'",
  });
}
