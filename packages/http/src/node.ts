/*
 * Conversions between Node's http objects and web Request/Response, for bindings that run on
 * `node:http` (Express, Fastify, a bare server). Typed structurally so this package needs no
 * Node types or imports and stays loadable on any runtime.
 *
 * `toWebRequest` gives a lightweight `Request`: method, URL and headers come straight from the
 * Node request, and a real `Request` (with its body stream) is built only if something asks for
 * a member the handlers do not need. The handlers recognise it and read the Node request
 * directly, body into one buffer; their answer is a lightweight `Response` that
 * `sendWebResponse` writes with one `writeHead` and one `end`. Anything else that touches
 * either object gets the real thing, so both behave as the web types they stand for.
 */
import {
  concat,
  declaredLength,
  type Incoming,
  isAbort,
  NO_BYTES,
  readWebBody,
  tooLarge,
} from "./body.js";
import { type Answer, ClientAbort, toResponse } from "./responses.js";

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
  /** The connection; a TLS one (`encrypted`) makes the URL `https:`. */
  readonly socket?: object | undefined;
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
  on(event: "end" | "close", listener: () => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  off(event: "data", listener: (chunk: Uint8Array | string) => void): unknown;
  off(event: "end" | "close", listener: () => void): unknown;
  off(event: "error", listener: (error: Error) => void): unknown;
  pause(): unknown;
  resume(): unknown;
  /** Set once the stream is torn down (e.g. the client disconnected). */
  readonly destroyed?: boolean;
  /** Set once something has read from the stream. */
  readonly readableDidRead?: boolean;
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
  end(chunk?: string | Uint8Array): unknown;
  once(event: "drain" | "close", listener: () => void): unknown;
  /** Set once the connection is gone: nothing written would arrive. */
  readonly destroyed?: boolean;
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
  /**
   * Origin the URL is built on. Default `https://` on a TLS connection, else `http://`, + the
   * `Host` header (or `localhost`).
   */
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
 * A web `Response` taken apart for a framework that sends answers through its own reply
 * object: see {@link readWebResponse}.
 *
 * @example
 * ```ts
 * const { status, headers, body }: ResponseParts = await readWebResponse(response);
 * ```
 */
export interface ResponseParts {
  status: number;
  /** Lower-case names; `set-cookie` as an array, one entry per cookie. */
  headers: Record<string, string | string[]>;
  /** The whole body, or `null` when the response has none. */
  body: string | Uint8Array | null;
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

const encoder = new TextEncoder();

/**
 * A Node request body as a web stream. It pauses Node's stream while the reader is not
 * pulling, so a reader that stops at a size cap holds at most one chunk; Node drains the rest
 * itself once the response is sent.
 */
function bodyStream(req: NodeStreamLike): ReadableStream<Uint8Array> {
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
 * Collects a Node stream into one array, stopping at `limit` bytes with a 413 (the stream is left
 * paused, unread, for the server to drain). A client that disconnects first is a `ClientAbort`.
 * A class rather than closures: one object per read, its listeners bound once.
 */
class StreamReader {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;
  private readonly onData = this.data.bind(this);
  private readonly onEnd = this.end.bind(this);
  private readonly onError = this.error.bind(this);
  private readonly onClose = this.close.bind(this);

  private constructor(
    private readonly stream: NodeStreamLike,
    private readonly limit: number,
    private readonly resolve: (body: Uint8Array) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    stream.on("data", this.onData);
    stream.on("end", this.onEnd);
    stream.on("error", this.onError);
    stream.on("close", this.onClose);
    stream.resume();
  }

  static read(stream: NodeStreamLike, limit: number): Promise<Uint8Array> {
    if (stream.readableDidRead === true) {
      // Something before the handlers consumed the body without handing it over: an app fault.
      return Promise.reject(new TypeError("The request body was already read by another handler"));
    }
    if (stream.destroyed === true) return Promise.reject(new ClientAbort());
    return new Promise((resolve, reject) => new StreamReader(stream, limit, resolve, reject));
  }

  private data(chunk: Uint8Array | string): void {
    const bytes = typeof chunk === "string" ? encoder.encode(chunk) : chunk;
    this.size += bytes.byteLength;
    if (this.size > this.limit) {
      this.detach();
      this.stream.pause();
      this.reject(tooLarge(this.limit));
      return;
    }
    this.chunks.push(bytes);
  }

  private end(): void {
    this.detach();
    this.resolve(concat(this.chunks, this.size));
  }

  private error(error: Error): void {
    this.detach();
    this.reject(isAbort(error) ? new ClientAbort(error) : error);
  }

  /** Closed before the end, without an error: the client went away all the same. */
  private close(): void {
    this.detach();
    this.reject(new ClientAbort());
  }

  private detach(): void {
    this.stream.off("data", this.onData);
    this.stream.off("end", this.onEnd);
    this.stream.off("error", this.onError);
    this.stream.off("close", this.onClose);
  }
}

/** Bytes of a replacement body given as bytes or text; `undefined` for other kinds. */
function replacementBytes(body: BodyInit): Uint8Array | undefined {
  if (typeof body === "string") return encoder.encode(body);
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (body instanceof URLSearchParams) return encoder.encode(body.toString());
  return undefined;
}

/**
 * Gives `lazy` every member of `native` (and its ancestors) that it does not define itself, each
 * forwarding to the real object `materialize` builds on first use, then makes `lazy` inherit
 * from `native` so `instanceof` holds. Members are found at load time, so whatever the runtime's
 * `Request` and `Response` have is covered.
 */
function forwardMembers(lazy: object, native: object, materialize: (self: never) => object): void {
  const real = materialize as (self: unknown) => Record<PropertyKey, unknown>;
  for (
    let proto: object | null = native;
    proto !== null && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    for (const key of Reflect.ownKeys(proto)) {
      if (key === "constructor" || Object.hasOwn(lazy, key)) continue;
      const descriptor = Object.getOwnPropertyDescriptor(proto, key) as PropertyDescriptor;
      if (descriptor.get !== undefined || descriptor.set !== undefined) {
        Object.defineProperty(lazy, key, {
          configurable: true,
          get() {
            return real(this)[key];
          },
          set:
            descriptor.set &&
            function (this: unknown, value: unknown) {
              real(this)[key] = value;
            },
        });
      } else if (typeof descriptor.value === "function") {
        Object.defineProperty(lazy, key, {
          configurable: true,
          writable: true,
          value(this: unknown, ...args: unknown[]) {
            const target = real(this);
            return (target[key] as (...a: unknown[]) => unknown).apply(target, args);
          },
        });
      }
    }
  }
  Object.setPrototypeOf(lazy, native);
}

// Paths a URL parser leaves as they are: no dot segments, escapes, backslashes or odd bytes.
const PLAIN_PATH = /^\/[A-Za-z0-9._~/-]*$/;
const DOT_SEGMENT = /\/\.\.?(?:\/|$)/;

/** The pathname `new URL` would give for a path, when it is plain enough to skip the parser. */
function plainPath(path: string): string | undefined {
  const end = path.search(/[?#]/);
  const pathname = end === -1 ? path : path.slice(0, end);
  return PLAIN_PATH.test(pathname) && !DOT_SEGMENT.test(pathname) ? pathname : undefined;
}

/**
 * A request from {@link toWebRequest} as the handlers read it: headers from Node's record, the
 * body straight from Node's stream. It also holds what the lightweight `Request` builds lazily.
 */
class NodeIncoming implements Incoming {
  readonly method: string;
  readonly self: Request;
  private url?: string;
  private headers?: Headers;
  private native?: Request;
  /** The body was read directly: it is spent. */
  private taken = false;

  constructor(
    private readonly req: NodeRequestLike,
    private readonly options: ToWebRequestOptions,
  ) {
    this.method = (req.method ?? "GET").toUpperCase();
    this.self = new NodeRequest(this) as unknown as Request;
  }

  private get target(): string {
    return this.options.url ?? this.req.url ?? "/";
  }

  get path(): string | undefined {
    return plainPath(this.target);
  }

  /** A header as `Headers.get` would read it after the conversion. */
  header(name: string): string | undefined {
    // Once the web Headers exist they are the truth: the app may have changed them.
    if (this.headers !== undefined) return this.headers.get(name) ?? undefined;
    if (
      this.options.body !== undefined &&
      (name === "content-length" || name === "transfer-encoding")
    ) {
      return undefined;
    }
    const value = this.req.headers[name];
    return value === undefined || typeof value === "string" ? value : value.join(", ");
  }

  async body(limit: number): Promise<Uint8Array> {
    if (this.native !== undefined) return readWebBody(this.native, limit);
    if (this.taken) throw new TypeError("Body is unusable: Body has already been read");
    if (!this.hasBody()) return NO_BYTES;
    const { body } = this.options;
    if (body !== undefined && body !== null) {
      const bytes = replacementBytes(body);
      if (bytes === undefined) return readWebBody(this.nativeRequest(), limit);
      this.taken = true;
      if (bytes.byteLength > limit) throw tooLarge(limit);
      return bytes;
    }
    const declared = declaredLength(this.header("content-length"));
    if (declared !== undefined && declared > limit) throw tooLarge(limit);
    this.taken = true;
    return StreamReader.read(this.options.stream ?? this.req, limit);
  }

  request(): Request {
    return this.self;
  }

  /** A lightweight Response that sendWebResponse and readWebResponse take apart directly. */
  respond(answer: Answer): Response {
    return new NodeResponse(answer) as unknown as Response;
  }

  get bodyUsed(): boolean {
    return this.taken || (this.native?.bodyUsed ?? false);
  }

  requestUrl(): string {
    if (this.url !== undefined) return this.url;
    const path = this.target;
    let url: URL;
    try {
      const scheme = (this.req.socket as { encrypted?: unknown } | undefined)?.encrypted
        ? "https"
        : "http";
      const origin = this.options.origin ?? `${scheme}://${this.header("host") ?? "localhost"}`;
      // Concatenated, not resolved: a path like "//other.example/x" must stay a path.
      url = new URL(path.startsWith("/") ? `${new URL(origin).origin}${path}` : path);
    } catch {
      url = new URL(path.startsWith("/") ? `http://localhost${path}` : "http://localhost/");
    }
    this.url = url.href;
    return this.url;
  }

  requestHeaders(): Headers {
    if (this.headers === undefined) {
      const headers = toWebHeaders(this.req.headers);
      if (this.options.body !== undefined) {
        headers.delete("content-length");
        headers.delete("transfer-encoding");
      }
      this.headers = headers;
    }
    return this.headers;
  }

  /** The real `Request`, built the first time something needs more than the handlers do. */
  nativeRequest(): Request {
    if (this.native !== undefined) return this.native;
    const init: RequestInit & { duplex?: "half" } = {
      method: this.method,
      headers: this.requestHeaders(),
    };
    if (this.hasBody()) {
      const { body, stream } = this.options;
      init.body = this.taken
        ? NO_BYTES
        : body !== undefined
          ? body
          : bodyStream(stream ?? this.req);
      // Required by Node's fetch for a streamed body; other runtimes ignore it.
      init.duplex = "half";
    }
    const native = new Request(this.requestUrl(), init);
    // A body the handlers already read stays spent: reading it again fails as it would.
    if (this.taken) native.body?.getReader();
    this.native = native;
    return native;
  }

  private hasBody(): boolean {
    return this.method !== "GET" && this.method !== "HEAD" && this.options.body !== null;
  }
}

/** The lightweight `Request` {@link toWebRequest} returns. */
class NodeRequest {
  readonly #incoming: NodeIncoming;

  constructor(incoming: NodeIncoming) {
    this.#incoming = incoming;
  }

  static incoming(value: object): NodeIncoming | undefined {
    return #incoming in value ? (value as NodeRequest).#incoming : undefined;
  }

  get method(): string {
    return this.#incoming.method;
  }

  get url(): string {
    return this.#incoming.requestUrl();
  }

  get headers(): Headers {
    return this.#incoming.requestHeaders();
  }

  get bodyUsed(): boolean {
    return this.#incoming.bodyUsed;
  }
}
forwardMembers(NodeRequest.prototype, Request.prototype, (self: NodeRequest) =>
  (NodeRequest.incoming(self) as NodeIncoming).nativeRequest(),
);

/** The lightweight `Response` the handlers answer a {@link toWebRequest} request with. */
class NodeResponse {
  readonly #answer: Answer;
  #native?: Response;

  constructor(answer: Answer) {
    this.#answer = answer;
  }

  /** The answer, if nothing has needed the real `Response` yet. */
  static pending(value: object): Answer | undefined {
    return #answer in value && (value as NodeResponse).#native === undefined
      ? (value as NodeResponse).#answer
      : undefined;
  }

  static native(self: NodeResponse): Response {
    self.#native ??= toResponse(self.#answer);
    return self.#native;
  }

  get status(): number {
    return this.#answer.status;
  }

  get ok(): boolean {
    return this.#answer.status >= 200 && this.#answer.status < 300;
  }
}
forwardMembers(NodeResponse.prototype, Response.prototype, NodeResponse.native);

/**
 * The handlers' view of a request {@link toWebRequest} made, or `undefined` for any other.
 * Internal to the handlers.
 */
export function nodeIncoming(request: object): Incoming | undefined {
  return NodeRequest.incoming(request);
}

/**
 * Converts a Node request to a web `Request`. The body is read only when a handler reads it,
 * so size caps apply while reading; the handlers read it straight from Node's stream.
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
  return new NodeIncoming(req, options).self;
}

/** UTF-8 length of a string: Node's native count where there is one. */
const byteLength: (text: string) => number =
  (globalThis as { Buffer?: { byteLength(text: string): number } }).Buffer?.byteLength ??
  ((text) => encoder.encode(text).byteLength);

/**
 * Writes a web `Response` to a Node response, streaming the body with backpressure. Answers of
 * the handlers to requests from {@link toWebRequest} are written in one go. Nothing is written
 * once the client is gone.
 *
 * @example
 * ```ts
 * app.get("/health", (req, res) => sendWebResponse(res, Response.json({ ok: true })));
 * ```
 */
export async function sendWebResponse(res: NodeResponseLike, response: Response): Promise<void> {
  const answer = NodeResponse.pending(response);
  if (res.destroyed === true) {
    // The client left mid-request (an aborted upload, say): there is no one to answer.
    if (answer === undefined) await response.body?.cancel().catch(() => {});
    return;
  }
  if (answer !== undefined) {
    if (answer.body === null) {
      res.writeHead(answer.status, answer.headers);
      res.end();
      return;
    }
    // The answer is this response's own: it can take the length header itself.
    answer.headers["content-length"] = String(byteLength(answer.body));
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
    return;
  }
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

/**
 * Takes a web `Response` apart for a framework that sends answers through its own reply object
 * (status, a Node header record, the whole body). Answers of the handlers to requests from
 * {@link toWebRequest} come apart without building anything.
 *
 * @example
 * ```ts
 * const { status, headers, body } = await readWebResponse(response);
 * return reply.code(status).headers(headers).send(body ?? "");
 * ```
 */
export async function readWebResponse(response: Response): Promise<ResponseParts> {
  const answer = NodeResponse.pending(response);
  if (answer !== undefined) {
    return { status: answer.status, headers: { ...answer.headers }, body: answer.body };
  }
  return {
    status: response.status,
    headers: toNodeHeaders(response.headers),
    body: response.body === null ? null : new Uint8Array(await response.arrayBuffer()),
  };
}
