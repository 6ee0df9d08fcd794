import { createServer } from "node:http";
import type { ServerTarget } from "../load/protocol.js";
import { close, listen } from "./common.js";
import { createMinimal } from "./minimal-logic.js";

/**
 * The in-memory limit over HTTP: a bare `node:http` server whose POST /token reads the form body,
 * rotates in a Map and signs one EdDSA access token with jose.
 */
export async function minimalTarget(): Promise<ServerTarget> {
  const minimal = await createMinimal();
  const server = createServer((req, res) => {
    if (req.method !== "POST" || req.url !== "/token") {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", async () => {
      const token = new URLSearchParams(Buffer.concat(chunks).toString()).get("refresh_token");
      const pair = token ? await minimal.refresh(token) : null;
      res
        .writeHead(pair ? 200 : 400, {
          "content-type": "application/json",
          "cache-control": "no-store",
        })
        .end(JSON.stringify(pair ?? { error: "invalid_grant" }));
    });
  });
  return {
    listen: () => listen(server),
    seed: async (count) =>
      (await Promise.all(Array.from({ length: count }, (_, i) => minimal.issue(`user-${i}`)))).map(
        (pair) => pair.refresh_token,
      ),
    close: () => close(server),
  };
}
