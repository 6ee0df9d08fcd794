import { HttpFailure, oauthError } from "./responses.js";

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

function mediaType(request: Request): string | undefined {
  const header = request.headers.get("content-type");
  if (header === null) return undefined;
  return header.split(";", 1)[0]?.trim().toLowerCase();
}

function tooLarge(limit: number): HttpFailure {
  return new HttpFailure(oauthError(413, "invalid_request", `Request body exceeds ${limit} bytes`));
}

function badRequest(description: string): HttpFailure {
  return new HttpFailure(oauthError(400, "invalid_request", description));
}

/**
 * Reads at most `limit` bytes of the body. A declared `Content-Length` over the limit is refused
 * before reading; a streamed body is refused as soon as it passes the limit, without buffering
 * the rest. The stream is released, not cancelled: cancelling can tear down the connection in
 * some servers before the 413 is written, and the server drains an unread body itself.
 */
export async function readBody(request: Request, limit: number): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > limit) {
    throw tooLarge(limit);
  }
  if (request.body === null) return new Uint8Array(0);
  if (declared !== null && /^\d+$/.test(declared.trim())) {
    // HTTP framing holds the body to its declared length, so one buffered read is safe and
    // lets servers skip building a stream (a third of a refresh's HTTP cost on node-server).
    const body = new Uint8Array(await request.arrayBuffer());
    if (body.byteLength > limit) throw tooLarge(limit);
    return body;
  }
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
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
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
  return { kind: "form", get: (name) => search.get(name) || undefined };
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

/**
 * Reads the parameters of a POST to a token endpoint: an RFC 6749 form body, a JSON object, or
 * nothing at all (a cookie-mode browser call). Any other body type is a 415.
 */
export async function readParams(request: Request, limit: number): Promise<Params> {
  const type = mediaType(request);
  const supported = type === FORM || type === JSON_TYPE;
  const declared = request.headers.get("content-length");
  // Refuse an unsupported type before reading a byte, unless the body is declared empty.
  if (!supported && type !== undefined && declared?.trim() !== "0") {
    throw new HttpFailure(
      oauthError(415, "invalid_request", `Content-Type must be ${FORM} or ${JSON_TYPE}`),
    );
  }
  const bytes = await readBody(request, limit);
  if (bytes.byteLength === 0) return EMPTY;
  if (!supported) {
    throw new HttpFailure(
      oauthError(415, "invalid_request", `Content-Type must be ${FORM} or ${JSON_TYPE}`),
    );
  }
  const text = decodeUtf8(bytes);
  return type === FORM ? formParams(text) : jsonParams(text);
}
