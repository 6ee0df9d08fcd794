import { createTokenClient } from "@tokens/client";
import { fileStorage } from "./storage.js";

/**
 * Where the CLI talks to and keeps its state, and where it writes.
 *
 * @example
 * ```ts
 * const io: CliIo = { server: "http://localhost:3000", tokenFile: "/tmp/rt", out: console.log };
 * ```
 */
export interface CliIo {
  server: string;
  tokenFile: string;
  out: (line: string) => void;
}

const USAGE = "usage: tokens-cli login <username> <password> | me | logout";

/**
 * Runs one command and resolves the process exit code. Each run is a fresh process with no
 * access token: `me` starts by refreshing with the stored refresh token, as a CLI invoked
 * again hours later would.
 *
 * @example
 * ```ts
 * process.exitCode = await runCli(["me"], io);
 * ```
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const client = createTokenClient({
    baseUrl: io.server,
    transport: "body",
    storage: fileStorage(io.tokenFile),
  });
  let ended: string | undefined;
  client.on("sessionEnded", (event) => {
    ended = event.error_description ?? event.error;
  });
  try {
    const [command, ...args] = argv;
    if (command === "login" && args.length === 2) {
      const [username, password] = args as [string, string];
      await client.login({ username, password });
      io.out("logged in");
      return 0;
    }
    if (command === "me" && args.length === 0) {
      const response = await client.fetch("/api/me");
      if (!response.ok) {
        io.out(ended ? `session ended (${ended}): log in again` : `error ${response.status}`);
        return 1;
      }
      io.out(JSON.stringify(await response.json()));
      return 0;
    }
    if (command === "logout" && args.length === 0) {
      io.out((await client.logout()) ? "logged out" : "logged out locally");
      return 0;
    }
    io.out(USAGE);
    return 2;
  } catch (error) {
    io.out(`error: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    client.dispose();
  }
}
