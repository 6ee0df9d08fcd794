/*
 * Conversions between Node's http objects and web Request/Response, for bindings that run on
 * `node:http` (Express, Fastify, a bare server). Typed structurally so this package needs no
 * Node types or imports and stays loadable on any runtime.
 */

/**
 * The parts of Node's `IncomingMessage` the conversion reads.
 *
 * @example
 * ```ts
 * import type { IncomingMessage } from "node:http";
 * const accepted: NodeRequestLike = {} as IncomingMessage;
 * ```
 */
export interface NodeRequestLike extends NodeStreamLike {
  method?: string | undefined;
  url?: string | undefined;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * A Node readable stream, as far as reading a request body goes.
 *
 * @example
 * ```ts
 * import type { Readable } from "node:stream";
 * const accepted: NodeStreamLike = {} as Readable;
 * ```
 */
export interface NodeStreamLike {
  on(event: "data", listener: (chunk: Uint8Array | string) => void): unknown;
  on(event: "end", listener: () => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  off(event: "data", listener: (chunk: Uint8Array | string) => void): unknown;
  off(event: "end", listener: () => void): unknown;
  off(event: "error", listener: (error: Error) => void): unknown;
  pause(): unknown;
  resume(): unknown;
}

/**
 * The parts of Node's `ServerResponse` {@link sendWebResponse} writes to.
 *
 * @example
 * ```ts
 * import type { ServerResponse } from "node:http";
 * const accepted: NodeResponseLike = {} as ServerResponse;
 * ```
 */
export interface NodeResponseLike {
  writeHead(status: number, headers: Record<string, string | string[]>): unknown;
  write(chunk: Uint8Array): boolean;
  end(): unknown;
  once(event: "drain" | "close", listener: () => void): unknown;
}

/**
 * Options of {@link toWebRequest}.
 *
 * @example
 * ```ts
 * toWebRequest(req, { origin: "https://auth.example.com", body: JSON.stringify(req.body) });
 * ```
 */
export interface ToWebRequestOptions {
  /** Origin the URL is built on. Default `http://` + the `Host` header (or `localhost`). */
  origin?: string;
  /** Path and query to use instead of `req.url` (e.g. Express's `originalUrl` under a mount). */
  url?: string;
  /**
   * Use this body instead of the request stream (e.g. one a framework already parsed), or
   * `null` for none. `Content-Length` and `Transfer-Encoding` are then dropped: they described
   * the original bytes.
   */
  body?: BodyInit | null;
  /** Read the body from this stream instead of `req` (e.g. a decompressing transform). */
  stream?: NodeStreamLike;
}

/**
 * Node's header record (lower-case names, `set-cookie` and repeats as arrays) as web `Headers`.
 * Values Node accepted but `Headers` refuses are skipped rather than failing the request.
 *
 * @example
 * ```ts
 * const headers = toWebHeaders(req.headers);
 * headers.get("authorization");
 * ```
 */
export function toWebHeaders(headers: Record<string, string | string[] | undefined>): Headers {
  const result = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name.startsWith(":")) continue;
    for (const item of Array.isArray(value) ? value : [value]) {
      try {
        result.append(name, item);
      } catch {
        // An HTTP/2 pseudo-header or a value outside the Fetch grammar: not one we read.
      }
    }
  }
  return result;
}

/**
 * Web `Headers` as a Node header record, keeping every `Set-Cookie` separate.
 *
 * @example
 * ```ts
 * res.writeHead(response.status, toNodeHeaders(response.headers));
 * ```
 */
export function toNodeHeaders(headers: Headers): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = {};
  for (const [name, value] of headers) {
    if (name !== "set-cookie") result[name] = value;
  }
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) result["set-cookie"] = cookies;
  return result;
}

/**
 * A Node request body as a web stream. It pauses Node's stream while the reader is not
 * pulling, so a reader that stops at a size cap holds at most one chunk; Node drains the rest
 * itself once the response is sent.
 */
function bodyStream(req: NodeStreamLike): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let detach = () => {};
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const onData = (chunk: Uint8Array | string) => {
          controller.enqueue(typeof chunk === "string" ? encoder.encode(chunk) : chunk);
          if ((controller.desiredSize ?? 0) <= 0) req.pause();
        };
        const onEnd = () => {
          detach();
          controller.close();
        };
        const onError = (error: Error) => {
          detach();
          controller.error(error);
        };
        detach = () => {
          req.off("data", onData);
          req.off("end", onEnd);
          req.off("error", onError);
        };
        req.on("data", onData);
        req.on("end", onEnd);
        req.on("error", onError);
        req.pause();
      },
      pull() {
        req.resume();
      },
      cancel() {
        detach();
        req.resume();
      },
    },
    { highWaterMark: 1 },
  );
}

/**
 * Converts a Node request to a web `Request` with the body streamed lazily (nothing is read
 * until a handler reads it, so size caps apply while streaming).
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 *
 * createServer(async (req, res) => {
 *   const response = (await handlers.route(toWebRequest(req))) ?? new Response(null, { status: 404 });
 *   await sendWebResponse(res, response);
 * }).listen(3000);
 * ```
 */
export function toWebRequest(req: NodeRequestLike, options: ToWebRequestOptions = {}): Request {
  const headers = toWebHeaders(req.headers);
  const method = (req.method ?? "GET").toUpperCase();
  const path = options.url ?? req.url ?? "/";
  let url: URL;
  try {
    const origin = options.origin ?? `http://${headers.get("host") ?? "localhost"}`;
    // Concatenated, not resolved: a path like "//other.example/x" must stay a path.
    url = new URL(path.startsWith("/") ? `${new URL(origin).origin}${path}` : path);
  } catch {
    url = new URL(path.startsWith("/") ? `http://localhost${path}` : "http://localhost/");
  }
  const init: RequestInit & { duplex?: "half" } = { method, headers };
  if (options.body !== undefined) {
    headers.delete("content-length");
    headers.delete("transfer-encoding");
  }
  if (method !== "GET" && method !== "HEAD" && options.body !== null) {
    init.body = options.body !== undefined ? options.body : bodyStream(options.stream ?? req);
    // Required by Node's fetch for a streamed body; other runtimes ignore it.
    init.duplex = "half";
  }
  return new Request(url, init);
}

/**
 * Writes a web `Response` to a Node response, streaming the body with backpressure.
 *
 * @example
 * ```ts
 * app.get("/health", (req, res) => sendWebResponse(res, Response.json({ ok: true })));
 * ```
 */
export async function sendWebResponse(res: NodeResponseLike, response: Response): Promise<void> {
  res.writeHead(response.status, toNodeHeaders(response.headers));
  if (response.body === null) {
    res.end();
    return;
  }
  let closed = false;
  res.once("close", () => {
    closed = true;
  });
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || closed) break;
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          res.once("drain", resolve);
          res.once("close", resolve);
        });
      }
    }
  } finally {
    if (closed) await reader.cancel().catch(() => {});
    reader.releaseLock();
    res.end();
  }
}
