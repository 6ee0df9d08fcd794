import { type Answer, ClientAbort, HttpFailure, oauthError, toResponse } from "./responses.js";

/**
 * A request as the handlers read it, whatever carried it: a web `Request`, or a Node request
 * read directly (see node.ts), which skips building streams nobody needs.
 */
export interface Incoming {
  /** The method, upper-case. */
  readonly method: string;
  /** A header's value by lower-case name (repeats joined), `undefined` when absent. */
  header(name: string): string | undefined;
  /**
   * The body's bytes. Throws `HttpFailure` (413) past `limit` bytes, without buffering the rest,
   * and `ClientAbort` when the client goes away before the body is complete.
   */
  body(limit: number): Promise<Uint8Array>;
  /** The request as a web `Request`, for options that take one (`getClientIp`). */
  request(): Request;
  /** The request's path, when it is known without parsing the URL. */
  readonly path?: string | undefined;
  /** An answer as the `Response` this request's server takes best. */
  respond(answer: Answer): Response;
}

/** Request parameters of a token or revocation request, however they were sent. */
export interface Params {
  /** How the parameters arrived: an empty body means "look at the cookie". */
  kind: "form" | "json" | "empty";
  /** A parameter's value; empty values count as absent (RFC 6749 §3.1). */
  get(name: string): string | undefined;
}

const FORM = "application/x-www-form-urlencoded";
const JSON_TYPE = "application/json";
const EMPTY: Params = { kind: "empty", get: () => undefined };
/** An empty body. */
export const NO_BYTES = new Uint8Array(0);
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** A `Content-Length` value as a number, `undefined` when absent or not a plain length. */
export function declaredLength(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  return /^\d+$/.test(trimmed) ? Number(trimmed) : undefined;
}

/** The 413 for a body over the cap. */
export function tooLarge(limit: number): HttpFailure {
  return new HttpFailure(oauthError(413, "invalid_request", `Request body exceeds ${limit} bytes`));
}

function badRequest(description: string): HttpFailure {
  return new HttpFailure(oauthError(400, "invalid_request", description));
}

/** Joins chunks read one by one into one array. */
export function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/** A failed body read the client caused by leaving: a reset or prematurely closed connection. */
export function isAbort(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    code === "ECONNRESET" ||
    code === "ERR_STREAM_PREMATURE_CLOSE" ||
    (error as { name?: unknown } | null)?.name === "AbortError"
  );
}

/**
 * Reads at most `limit` bytes of a web request's body. A declared `Content-Length` over the
 * limit is refused before reading; a streamed body is refused as soon as it passes the limit,
 * without buffering the rest. The stream is released, not cancelled: cancelling can tear down
 * the connection in some servers before the 413 is written, and the server drains an unread
 * body itself.
 */
export async function readWebBody(request: Request, limit: number): Promise<Uint8Array> {
  const declared = declaredLength(request.headers.get("content-length"));
  if (declared !== undefined && declared > limit) throw tooLarge(limit);
  try {
    if (declared !== undefined) {
      // HTTP framing holds the body to its declared length, so one buffered read is safe and
      // lets servers skip building a stream. `request.body` is not touched first: on
      // @hono/node-server that alone builds the stream and a full Request.
      const body = new Uint8Array(await request.arrayBuffer());
      if (body.byteLength > limit) throw tooLarge(limit);
      return body;
    }
    if (request.body === null) return NO_BYTES;
    const reader = request.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > limit) throw tooLarge(limit);
        chunks.push(value);
      }
    } finally {
      reader.releaseLock();
    }
    return concat(chunks, size);
  } catch (error) {
    if (error instanceof HttpFailure) throw error;
    // Servers abort the request's signal when its client disconnects (@hono/node-server, Deno).
    throw isAbort(error) || request.signal?.aborted ? new ClientAbort(error) : error;
  }
}

/** A web `Request` as the handlers read it. */
export class WebIncoming implements Incoming {
  constructor(private readonly source: Request) {}

  get method(): string {
    return this.source.method;
  }

  header(name: string): string | undefined {
    return this.source.headers.get(name) ?? undefined;
  }

  body(limit: number): Promise<Uint8Array> {
    return readWebBody(this.source, limit);
  }

  request(): Request {
    return this.source;
  }

  respond(answer: Answer): Response {
    return toResponse(answer);
  }
}

function mediaType(incoming: Incoming): string | undefined {
  const header = incoming.header("content-type");
  if (header === undefined) return undefined;
  return header.split(";", 1)[0]?.trim().toLowerCase();
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw badRequest("The request body is not valid UTF-8");
  }
}

function formParams(text: string): Params {
  const search = new URLSearchParams(text);
  const seen = new Set<string>();
  for (const name of search.keys()) {
    // RFC 6749 §3.2: parameters must not be repeated; a repeat is ambiguous, so refuse it.
    if (seen.has(name)) throw badRequest(`Parameter ${name} is repeated`);
    seen.add(name);
  }
  return {
    kind: "form",
    get(name) {
      return search.get(name) || undefined;
    },
  };
}

function jsonParams(text: string): Params {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest("The request body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw badRequest("The request body must be a JSON object");
  }
  const object = value as Record<string, unknown>;
  return {
    kind: "json",
    get(name) {
      if (!Object.hasOwn(object, name)) return undefined;
      const field = object[name];
      if (field === null || field === undefined || field === "") return undefined;
      if (typeof field !== "string") throw badRequest(`Parameter ${name} must be a string`);
      return field;
    },
  };
}

function unsupportedType(): HttpFailure {
  return new HttpFailure(
    oauthError(415, "invalid_request", `Content-Type must be ${FORM} or ${JSON_TYPE}`),
  );
}

/**
 * Reads the parameters of a POST to a token endpoint: an RFC 6749 form body, a JSON object, or
 * nothing at all (a cookie-mode browser call). Any other body type is a 415.
 */
export async function readParams(incoming: Incoming, limit: number): Promise<Params> {
  const type = mediaType(incoming);
  const supported = type === FORM || type === JSON_TYPE;
  // Refuse an unsupported type before reading a byte, unless the body is declared empty.
  if (!supported && type !== undefined && incoming.header("content-length")?.trim() !== "0") {
    throw unsupportedType();
  }
  const bytes = await incoming.body(limit);
  if (bytes.byteLength === 0) return EMPTY;
  if (!supported) throw unsupportedType();
  const text = decodeUtf8(bytes);
  return type === FORM ? formParams(text) : jsonParams(text);
}
