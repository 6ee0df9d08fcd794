/*
 * `pnpm --filter quickstart start`: reads the environment, opens the store and keys, serves.
 */
import { serve } from "@hono/node-server";
import { ConfigurationError } from "@tokens/core";
import { createQuickstart } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";
import { loadSigningKeys } from "./keys.js";
import { openStore } from "./store.js";

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const { store, close } = await openStore(config.databaseUrl);
  const keys = await loadSigningKeys(config.keysFile);
  const { app, tokens } = await createQuickstart({ ...config, store, keys });

  const server = serve(
    { fetch: app.fetch, port: config.port, ...(config.host ? { hostname: config.host } : {}) },
    (info) => {
      console.log(
        `tokens quickstart listening on port ${info.port} (store: ${config.databaseUrl})`,
      );
      console.log(`Open ${config.issuer}/ and log in as demo / demo`);
    },
  );

  // Ended sessions are deleted a while after they end; a small app can do it on a timer.
  const purge = setInterval(() => {
    tokens.purge().catch((error: unknown) => console.error("purge failed", error));
  }, 600_000);
  purge.unref();

  const shutdown = () => {
    clearInterval(purge);
    server.close(() => {
      close().finally(() => process.exit(0));
    });
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof ConfigurationError) {
    console.error(`Configuration error: ${error.message}`);
    process.exit(1);
  }
  console.error(error);
  process.exit(1);
});
