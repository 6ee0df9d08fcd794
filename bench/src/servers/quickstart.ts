import type { Server } from "node:http";
import type { ServerTarget } from "../load/protocol.js";
import { close, listen } from "./common.js";

/**
 * The quickstart example as shipped (Hono on @hono/node-server, memory store, cookie mode on),
 * refreshed through its /auth/token/refresh endpoint with the token in a form body.
 */
export async function quickstartTarget(): Promise<ServerTarget> {
  const { createQuickstart } = await import("quickstart");
  const { createAdaptorServer } = await import("@hono/node-server");
  const { app, tokens } = await createQuickstart({ issuer: "http://localhost:3000" });
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  return {
    listen: () => listen(server),
    // Sessions as the demo login opens them, without the password check in the way.
    seed: async (count) =>
      (
        await Promise.all(
          Array.from({ length: count }, () =>
            tokens.issue({ subject: "user_demo", claims: { name: "Demo User" } }),
          ),
        )
      ).map((pair) => pair.refresh_token),
    close: () => close(server),
  };
}
