import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

/** The page harness and the client, bundled for the browser the way an app's bundler would. */
export async function bundleHarness(): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL("./page.ts", import.meta.url))],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "silent",
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error("esbuild produced no output");
  return output.text;
}

/** A web-standard app (`app.fetch` of Hono, for one). */
export type WebHandler = (request: Request) => Response | Promise<Response>;

const PAGE =
  '<!doctype html><meta charset="utf-8"><title>tokens client</title><script type="module" src="/harness.js"></script>';

/**
 * One origin serving the test page and the bundle, and handing every other request to the
 * app, as a real deployment serves the app's pages next to its auth endpoints and API. The app
 * is attached after listening, since its issuer must name this server's port.
 */
export async function startPageServer(bundle: string) {
  let app: WebHandler | null = null;
  const log: Array<{ method: string; path: string; status: number }> = [];
  const server = createServer(async (incoming, outgoing) => {
    if (incoming.method === "GET" && (incoming.url === "/" || incoming.url === "/harness.js")) {
      const page = incoming.url === "/";
      outgoing.writeHead(200, {
        "content-type": `text/${page ? "html" : "javascript"}; charset=utf-8`,
      });
      outgoing.end(page ? PAGE : bundle);
      return;
    }
    if (!app) {
      outgoing.writeHead(503);
      outgoing.end();
      return;
    }
    try {
      const response = await app(await toRequest(incoming, origin));
      log.push({
        method: incoming.method ?? "",
        path: incoming.url ?? "",
        status: response.status,
      });
      const headers: Record<string, string | string[]> = {};
      response.headers.forEach((value, name) => {
        if (name !== "set-cookie") headers[name] = value;
      });
      const cookies = response.headers.getSetCookie();
      if (cookies.length > 0) headers["set-cookie"] = cookies;
      outgoing.writeHead(response.status, headers);
      outgoing.end(Buffer.from(await response.arrayBuffer()));
    } catch (error) {
      console.error(error);
      outgoing.writeHead(500);
      outgoing.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: origin,
    /** App requests and the statuses they got, in the order answers were ready. */
    log,
    attach(handler: WebHandler) {
      app = handler;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function toRequest(incoming: IncomingMessage, origin: string): Promise<Request> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming.headers)) {
    for (const item of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
      headers.append(name, item);
    }
  }
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  const method = incoming.method ?? "GET";
  const body = method === "GET" || method === "HEAD" ? undefined : Buffer.concat(chunks);
  return new Request(new URL(incoming.url ?? "/", origin), { method, headers, body });
}
