// tokens-cli: `pnpm start login demo demo`, then `pnpm start me`.
import { homedir } from "node:os";
import { join } from "node:path";
import { runCli } from "./cli.js";

process.exitCode = await runCli(process.argv.slice(2), {
  server: process.env.TOKENS_SERVER ?? "http://localhost:3000",
  tokenFile:
    process.env.TOKENS_CLI_FILE ?? join(homedir(), ".config", "tokens-cli", "refresh-token"),
  out: (line) => console.log(line),
});
