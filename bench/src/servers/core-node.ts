import { createServer } from "node:http";
import { TokensError } from "@tokens/core";
import type { ServerTarget } from "../load/protocol.js";
import { close, issueMany, listen, memoryTokens } from "./common.js";

/**
 * Core on a bare `node:http` server, glued by hand: the same request parsing as the minimal
 * endpoint, `tokens.refresh` instead of the Map. Separates core's cost from the HTTP layer's.
 */
export async function coreNodeTarget(): Promise<ServerTarget> {
  const tokens = await memoryTokens();
  const server = createServer((req, res) => {
    if (req.method !== "POST" || req.url !== "/token") {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", async () => {
      const token = new URLSearchParams(Buffer.concat(chunks).toString()).get("refresh_token");
      let status = 200;
      let body: unknown;
      try {
        const { session: _session, ...pair } = await tokens.refresh(token);
        body = pair;
      } catch (error) {
        status = error instanceof TokensError ? 400 : 500;
        body = { error: error instanceof TokensError ? error.code : "server_error" };
      }
      res
        .writeHead(status, { "content-type": "application/json", "cache-control": "no-store" })
        .end(JSON.stringify(body));
    });
  });
  return {
    listen: () => listen(server),
    seed: (count) => issueMany(tokens, count),
    close: () => close(server),
  };
}
