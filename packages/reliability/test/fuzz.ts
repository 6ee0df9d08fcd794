/*
 * Hostile HTTP input against every binding on a real loopback server: fast-check generates
 * requests (methods, paths under the mounted routes, headers, content types, cookies, bodies that
 * are oversized, invalid UTF-8, random JSON, truncated or oversized tokens). Every answer must be
 * a non-5xx, every error from a route the binding owns must be in the documented shape, and the
 * server must keep serving.
 */
import { connect } from "node:net";
import { createTokens, generateSigningKey } from "@tokens/core";
import { unknownRefreshToken } from "@tokens/core/testing";
import { createHandlers, type Endpoint, type TokenHandlers } from "@tokens/http";
import { memoryStore } from "@tokens/memory";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APP_ORIGIN, AUDIENCE, ISSUER } from "../../http/test/suite.js";
import { PROTECTED_PATHS, type Routing, type Serve, type SuiteServer } from "./servers.js";

export const REQUESTS_PER_BINDING = 10_000;
const CONCURRENCY = 16;
/** Fixed so a failure replays; change it to explore further. */
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_123);

/** Error codes RFC 6749 §5.2, RFC 6750 §3.1 and RFC 7009 §2.2.1 define. */
const OAUTH_ERRORS = new Set([
  "invalid_request",
  "invalid_client",
  "invalid_grant",
  "unauthorized_client",
  "unsupported_grant_type",
  "invalid_scope",
  "invalid_token",
  "insufficient_scope",
  "unsupported_token_type",
  "temporarily_unavailable",
  "server_error",
]);
/** RFC 6749 §5.2: error_description is printable ASCII without `"` and `\`. */
const DESCRIPTION = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

interface Pools {
  refreshTokens: string[];
  accessTokens: string[];
}

export interface Spec {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Uint8Array | string;
}

const text = (max: number) =>
  fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    maxLength: max,
  });

/** Anything a hostile client might put where a token goes, given a pool of real ones. */
function tokenArb(pool: string[], huge = `tokens_rt_${"x".repeat(20_000)}`) {
  const real = fc.nat({ max: pool.length - 1 }).map((i) => pool[i] as string);
  return fc.oneof(
    real,
    real.chain((t) => fc.nat({ max: t.length }).map((n) => t.slice(0, n))),
    real.map((t) => `${t}${t}`),
    real.map((t) => t.replace(/.$/, (c) => (c === "A" ? "B" : "A"))),
    fc.constant(unknownRefreshToken()),
    fc.constant(huge),
    fc.constant("eyJhbGciOiJub25lIn0.e30."),
    fc.constant("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"),
    text(80),
  );
}

function specArb(handlers: TokenHandlers, pools: Pools): fc.Arbitrary<Spec> {
  const { paths } = handlers;
  const refresh = tokenArb(pools.refreshTokens);
  // Headers stay under node's 16 KiB header limit, past which node answers 431 before any app code.
  const headerRefresh = tokenArb(pools.refreshTokens, `tokens_rt_${"x".repeat(4_000)}`);
  const access = tokenArb(pools.accessTokens, `${"e".repeat(4_000)}.e30.c2ln`);
  const endpoint = fc.constantFrom(
    paths.refresh,
    paths.revoke,
    paths.jwks,
    paths.metadata,
    ...PROTECTED_PATHS,
    "/login",
  );
  const path = fc.oneof(
    { weight: 6, arbitrary: endpoint },
    endpoint.chain((p) => text(40).map((q) => `${p}?${encodeURIComponent(q)}=${encodeURI(q)}`)),
    endpoint.map((p) => `${p}/`),
    text(30).map((s) => `/auth/token/${encodeURIComponent(s)}`),
    text(30).map((s) => `/.well-known/${encodeURIComponent(s)}`),
    fc.constantFrom("/auth/token/refresh/../revoke", "/auth//token/refresh", "/AUTH/TOKEN/REFRESH"),
  );
  const method = fc.constantFrom(
    "GET",
    "HEAD",
    "POST",
    "POST",
    "POST",
    "PUT",
    "DELETE",
    "PATCH",
    "OPTIONS",
    "PROPFIND",
  );
  const contentType = fc.oneof(
    fc.constantFrom(
      "application/x-www-form-urlencoded",
      "application/x-www-form-urlencoded; charset=utf-8",
      "application/json",
      "application/json; charset=utf-16",
      "APPLICATION/JSON;;;",
      "multipart/form-data; boundary=x",
      "text/plain",
      "",
    ),
    text(40),
  );
  const formBody = fc
    .record(
      {
        grant_type: fc.oneof(fc.constant("refresh_token"), text(20)),
        refresh_token: refresh,
        token: fc.oneof(refresh, access),
        token_type_hint: fc.constantFrom("refresh_token", "access_token", "nonsense"),
        client_id: fc.oneof(fc.constant("default"), text(300)),
      },
      { requiredKeys: [] },
    )
    .map((fields) => new URLSearchParams(fields as Record<string, string>).toString());
  const body = fc.oneof(
    { weight: 8, arbitrary: formBody },
    formBody.map((b) => `${b}&${b}`),
    fc
      .record(
        {
          refresh_token: fc.oneof(refresh, fc.jsonValue()),
          token: fc.oneof(access, fc.jsonValue()),
        },
        { requiredKeys: [] },
      )
      .map((o) => JSON.stringify(o)),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.uint8Array({ maxLength: 200 }),
    // Invalid UTF-8: lone continuation bytes and a truncated multi-byte sequence.
    fc.constant(new Uint8Array([0x72, 0x65, 0x66, 0x80, 0xbf, 0xc3, 0x3d, 0xe2, 0x82])),
    { weight: 1, arbitrary: fc.nat({ max: 3 }).map((n) => "x".repeat(16_385 + n * 10_000)) },
    {
      weight: 1,
      arbitrary: refresh.map(
        (t) => `grant_type=refresh_token&refresh_token=${t}&pad=${"p".repeat(17_000)}`,
      ),
    },
    text(200),
  );
  const headers = fc.record(
    {
      "content-type": contentType,
      authorization: fc.oneof(
        access.map((t) => `Bearer ${t}`),
        access.map((t) => `bEaReR  ${t}`),
        fc.constantFrom("Bearer", "Bearer a b", "Basic dXNlcjpwYXNz", "Bearer ,"),
        text(60),
      ),
      cookie: fc.oneof(
        headerRefresh.map((t) => `__Secure-tokens_rt=${t}`),
        headerRefresh.map((t) => `__Secure-tokens_rt=${t}; __Secure-tokens_rt=${t}`),
        text(100),
      ),
      origin: fc.oneof(
        fc.constant(APP_ORIGIN),
        fc.constant("https://evil.example"),
        fc.constant("null"),
        text(40),
      ),
      "token-request": fc.constantFrom("1", "0", ""),
      "sec-fetch-site": fc.constantFrom("same-origin", "cross-site", "none", "?"),
      "token-transport": fc.oneof(fc.constantFrom("body", "cookie", "COOKIE"), text(20)),
      "token-device-id": text(400),
      "user-agent": text(600),
      "x-forwarded-for": text(60),
    },
    { requiredKeys: [] },
  );
  return fc.record({ method, path, headers, body: fc.option(body, { nil: undefined }) });
}

/**
 * Answers a framework is known to give on routes the binding does not own (the app's own), kept
 * out of the failure list but counted and printed so they stay visible.
 */
export type KnownDeviation = (spec: Spec, response: Response, body: string) => string | undefined;

/** What the binding owns of a request: a token endpoint, a protected route, or nothing. */
type Owner = { kind: "endpoint"; endpoint: Endpoint } | { kind: "protected" } | undefined;

/** The owner of the route `routing` sends `spec` to (see `Routing` in servers.ts). */
function ownerOf(spec: Spec, handlers: TokenHandlers, routing: Routing): Owner {
  // The path as sent: fetch resolves dot segments and keeps everything else as given.
  const pathname = new URL(spec.path, "http://x").pathname;
  const fold = (path: string) => {
    const trimmed = routing.trailingSlash && path.length > 1 ? path.replace(/\/$/, "") : path;
    return routing.caseInsensitive ? trimmed.toLowerCase() : trimmed;
  };
  const wanted = fold(pathname);
  // Every method on an endpoint path reaches the handler, which answers the wrong ones with 405.
  const endpoint = handlers.endpoints.find((candidate) => fold(candidate.path) === wanted);
  if (endpoint) return { kind: "endpoint", endpoint };
  const guarded = PROTECTED_PATHS.some((path) => fold(path) === wanted);
  const methodRouted = routing.protectedMethods?.includes(spec.method) ?? true;
  return guarded && methodRouted ? { kind: "protected" } : undefined;
}

/** Why `response` breaks the documented contract, or undefined when it keeps it. */
async function violation(
  spec: Spec,
  response: Response,
  owner: Owner,
): Promise<string | undefined> {
  const raw = await response.arrayBuffer();
  if (response.status >= 500) return `status ${response.status}`;
  // node's HTTP parser refuses over-long header sections itself, before any app code runs.
  if (response.status === 431) return undefined;
  if (response.status < 400) return undefined;
  const header = (name: string) => response.headers.get(name);
  if (owner === undefined) {
    // The app's own routes and unknown paths: the app and its framework answer those.
    if (response.status === 404) return undefined;
    if (new URL(spec.path, "http://x").pathname === "/login" && response.status === 401) {
      return undefined;
    }
  } else if (owner.kind === "endpoint") {
    if (response.status === 404) return "404 from a token endpoint";
    // RFC 6749 §5.1-5.2: token endpoint answers are never cached.
    if (!header("cache-control")?.includes("no-store"))
      return `${response.status} without no-store`;
    // RFC 9110 §15.5.6: a 405 names the methods that are allowed.
    const allow = owner.endpoint.methods.join(", ");
    if (response.status === 405 && header("allow") !== allow)
      return `405 with Allow ${header("allow")}`;
  } else if (!header("www-authenticate")?.startsWith("Bearer")) {
    // RFC 6750 §3: a protected resource refuses with a Bearer challenge.
    return `${response.status} from a protected route without a Bearer challenge`;
  }
  if (spec.method === "HEAD") return undefined;
  if (raw.byteLength === 0) {
    const challenge = header("www-authenticate");
    if (response.status === 401 && challenge?.startsWith("Bearer")) return undefined;
    return `empty ${response.status} without a Bearer challenge`;
  }
  if (!header("content-type")?.startsWith("application/json")) {
    return `${response.status} with content-type ${header("content-type")}`;
  }
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(raw));
  } catch {
    return `${response.status} with invalid JSON`;
  }
  if (typeof body !== "object" || body === null) return "error body is not an object";
  const { error, error_description: description, ...rest } = body as Record<string, unknown>;
  if (typeof error !== "string" || !OAUTH_ERRORS.has(error)) return `error code ${String(error)}`;
  if (
    description !== undefined &&
    (typeof description !== "string" || !DESCRIPTION.test(description))
  ) {
    return `error_description ${JSON.stringify(description)}`;
  }
  if (Object.keys(rest).length > 0) return `extra members ${Object.keys(rest).join(",")}`;
  return undefined;
}

async function send(origin: string, spec: Spec): Promise<Response> {
  const hasBody = spec.body !== undefined && spec.method !== "GET" && spec.method !== "HEAD";
  return fetch(`${origin}${spec.path}`, {
    method: spec.method,
    headers: spec.headers,
    ...(hasBody ? { body: spec.body as BodyInit } : {}),
    redirect: "manual",
  });
}

/** Requests whose body ends before its declared length, then the socket closes. */
function truncatedRequest(origin: string, path: string, declared: number, sent: string) {
  const { hostname, port } = new URL(origin);
  return new Promise<void>((resolve) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${declared}\r\n\r\n${sent}`,
      );
      socket.end();
    });
    socket.on("error", () => resolve());
    socket.on("close", () => resolve());
    socket.resume();
  });
}

/** The server still answers a well-formed request correctly. */
async function alive(server: SuiteServer): Promise<void> {
  const response = await fetch(`${server.url}/.well-known/jwks.json`);
  expect(response.status).toBe(200);
  expect(((await response.json()) as { keys: unknown[] }).keys).toHaveLength(1);
}

export function runFuzz(
  name: string,
  serve: Serve,
  routing: Routing,
  known: KnownDeviation = () => undefined,
) {
  describe(`${name}: hostile HTTP input`, () => {
    let server: SuiteServer;
    let handlers: TokenHandlers;
    const reported: unknown[] = [];
    const pools: Pools = { refreshTokens: [], accessTokens: [] };

    beforeAll(async () => {
      const tokens = createTokens({
        issuer: ISSUER,
        audience: AUDIENCE,
        keys: [await generateSigningKey("EdDSA", { kid: "fuzz-key" })],
        store: memoryStore(),
      });
      handlers = createHandlers(tokens, {
        cookie: { allowedOrigins: [APP_ORIGIN] },
        onError: (error) => void reported.push(error),
      });
      server = await serve(handlers);
      for (let i = 0; i < 64; i += 1) {
        const issued = await tokens.issue({ subject: `fuzz-${i % 8}` });
        pools.refreshTokens.push(issued.refresh_token);
        pools.accessTokens.push(issued.access_token);
      }
    });
    afterAll(() => server?.close());

    it(`answers ${REQUESTS_PER_BINDING} random requests without a 5xx, in the documented format`, async () => {
      const specs = fc.sample(specArb(handlers, pools), {
        numRuns: REQUESTS_PER_BINDING,
        seed: SEED,
      });
      const failures: string[] = [];
      const deviations = new Map<string, number>();
      const routed = { endpoint: 0, protected: 0, app: 0 };
      let next = 0;
      const worker = async () => {
        while (next < specs.length) {
          const spec = specs[next++] as Spec;
          const owner = ownerOf(spec, handlers, routing);
          routed[owner?.kind ?? "app"] += 1;
          try {
            const response = await send(server.url, spec);
            if (owner === undefined) {
              const deviation = known(spec, response.clone(), await response.clone().text());
              if (deviation) {
                deviations.set(deviation, (deviations.get(deviation) ?? 0) + 1);
                await response.arrayBuffer();
                continue;
              }
            }
            const problem = await violation(spec, response, owner);
            if (problem) failures.push(`${spec.method} ${spec.path}: ${problem}`);
          } catch (error) {
            failures.push(`${spec.method} ${spec.path}: request failed (${String(error)})`);
          }
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      console.info(`${name}: requests by route owner`, routed);
      if (deviations.size > 0) {
        console.warn(
          `${name}: known deviations on the app's routes`,
          Object.fromEntries(deviations),
        );
      }
      expect(failures.slice(0, 20)).toEqual([]);
      // Enough requests must reach what the binding owns, or the format check proves little.
      expect(routed.endpoint).toBeGreaterThan(REQUESTS_PER_BINDING / 4);
      expect(routed.protected).toBeGreaterThan(REQUESTS_PER_BINDING / 50);
      expect(reported).toEqual([]);
      await alive(server);
    });

    it("survives bodies cut short and sockets closed mid-request", async () => {
      const token = pools.refreshTokens[0] as string;
      const cuts = Array.from({ length: 100 }, (_, i) =>
        truncatedRequest(
          server.url,
          i % 2 === 0 ? handlers.paths.refresh : handlers.paths.revoke,
          1_000 + i * 200,
          `grant_type=refresh_token&refresh_token=${token.slice(0, i % token.length)}`,
        ),
      );
      await Promise.all(cuts);
      // A client hanging up mid-body is not a server fault: nothing reaches onError.
      expect(reported).toEqual([]);
      await alive(server);
    });
  });
}
