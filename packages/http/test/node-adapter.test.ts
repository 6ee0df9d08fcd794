/*
 * The Node adapter's request and response objects: lightweight stand-ins for web Request and
 * Response that must behave exactly as the real ones wherever an app touches them.
 */
import { Readable } from "node:stream";
import type { Tokens } from "@tokens/core";
import {
  createHandlers,
  type NodeRequestLike,
  type NodeResponseLike,
  readWebResponse,
  sendWebResponse,
  type TokenHandlers,
  toWebRequest,
} from "@tokens/http";
import { beforeAll, describe, expect, it } from "vitest";
import { memoryTokens } from "./suite.js";

let tokens: Tokens;
let handlers: TokenHandlers;

beforeAll(async () => {
  tokens = await memoryTokens();
  handlers = createHandlers(tokens);
});

/** A Node request as the http server would give it, body included. */
function nodeRequest(
  method: string,
  url: string,
  headers: Record<string, string> = {},
  body = "",
): NodeRequestLike {
  return Object.assign(Readable.from(body === "" ? [] : [Buffer.from(body)]), {
    method,
    url,
    headers: { host: "auth.example.test", ...headers },
  });
}

/** What `sendWebResponse` wrote. */
function capture() {
  const sent: { status?: number; headers?: Record<string, unknown>; chunks: string[] } = {
    chunks: [],
  };
  const res: NodeResponseLike & { destroyed: boolean } = {
    destroyed: false,
    writeHead(status, headers) {
      sent.status = status;
      sent.headers = headers;
    },
    write(chunk) {
      sent.chunks.push(Buffer.from(chunk).toString());
      return true;
    },
    end(chunk) {
      if (chunk !== undefined) sent.chunks.push(Buffer.from(chunk).toString());
    },
    once() {},
  };
  return { res, sent };
}

const FORM = { "content-type": "application/x-www-form-urlencoded" };

async function refreshRequest() {
  const { refresh_token } = await tokens.issue({ subject: "alice" });
  const body = `grant_type=refresh_token&refresh_token=${refresh_token}`;
  return toWebRequest(
    nodeRequest(
      "POST",
      "/auth/token/refresh",
      { ...FORM, "content-length": `${body.length}` },
      body,
    ),
  );
}

describe("toWebRequest", () => {
  it("gives a Request whose every member works", async () => {
    const request = toWebRequest(
      nodeRequest("post", "/x?y=1", { "content-type": "text/plain", "x-a": "1" }, "hello"),
    );
    expect(request).toBeInstanceOf(Request);
    expect(request.method).toBe("POST");
    expect(request.url).toBe("http://auth.example.test/x?y=1");
    expect(request.headers.get("x-a")).toBe("1");
    expect(request.signal.aborted).toBe(false);
    expect(request.bodyUsed).toBe(false);
    const copy = request.clone();
    expect(await request.text()).toBe("hello");
    expect(request.bodyUsed).toBe(true);
    expect(await copy.text()).toBe("hello");
    await expect(request.text()).rejects.toThrow(TypeError);
  });

  it("builds an https: URL for a request that came over TLS", () => {
    const overTls = Object.assign(nodeRequest("GET", "/api/me"), { socket: { encrypted: true } });
    expect(toWebRequest(overTls).url).toBe("https://auth.example.test/api/me");
    const plain = Object.assign(nodeRequest("GET", "/api/me"), { socket: {} });
    expect(toWebRequest(plain).url).toBe("http://auth.example.test/api/me");
  });

  it("leaves the body spent once the handlers read it", async () => {
    const request = await refreshRequest();
    const response = await handlers.route(request);
    expect(response?.status).toBe(200);
    expect(request.bodyUsed).toBe(true);
    await expect(request.text()).rejects.toThrow(TypeError);
  });

  it("reads through the real Request once the app has touched the body", async () => {
    const request = await refreshRequest();
    const body = request.body;
    expect(body).not.toBeNull();
    const response = await handlers.route(request);
    expect(response?.status).toBe(200);
    expect(await response?.json()).toHaveProperty("refresh_token");
  });

  it("routes paths a URL parser would normalise as it would", async () => {
    const response = await handlers.route(
      toWebRequest(nodeRequest("GET", "/auth/./token/x/../revoke?z")),
    );
    expect(response?.status).toBe(405);
    expect(response?.headers.get("allow")).toBe("POST, OPTIONS");
    expect(await handlers.route(toWebRequest(nodeRequest("GET", "/auth/token/%72evoke")))).toBe(
      undefined,
    );
  });
});

describe("answers to converted requests", () => {
  it("are Responses whose every member works", async () => {
    const response = (await handlers.route(await refreshRequest())) as Response;
    expect(response).toBeInstanceOf(Response);
    expect(response.ok).toBe(true);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const copy = response.clone();
    expect(await response.json()).toMatchObject({ token_type: "Bearer" });
    expect(response.bodyUsed).toBe(true);
    expect(await copy.json()).toMatchObject({ token_type: "Bearer" });
  });

  it("are written in one go, with their length", async () => {
    const response = (await handlers.route(await refreshRequest())) as Response;
    const { res, sent } = capture();
    await sendWebResponse(res, response);
    expect(sent.status).toBe(200);
    expect(sent.chunks).toHaveLength(1);
    const body = sent.chunks[0] as string;
    expect(sent.headers).toMatchObject({
      "cache-control": "no-store",
      pragma: "no-cache",
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(body)),
    });
    expect(JSON.parse(body)).toHaveProperty("refresh_token");
  });

  it("are sent with the changes the app made to them", async () => {
    const response = (await handlers.route(await refreshRequest())) as Response;
    response.headers.set("x-request-id", "42");
    const { res, sent } = capture();
    await sendWebResponse(res, response);
    expect(sent.headers).toMatchObject({ "x-request-id": "42", "cache-control": "no-store" });
    expect(JSON.parse(sent.chunks.join(""))).toHaveProperty("access_token");
  });

  it("are not written once the client is gone", async () => {
    const response = (await handlers.route(await refreshRequest())) as Response;
    const { res, sent } = capture();
    res.destroyed = true;
    await sendWebResponse(res, response);
    expect(sent.status).toBeUndefined();
    expect(sent.chunks).toEqual([]);
  });

  it("come apart for a framework's reply, as plain Responses do", async () => {
    const answer = await readWebResponse(
      (await handlers.route(await refreshRequest())) as Response,
    );
    expect(answer).toMatchObject({ status: 200, headers: { "cache-control": "no-store" } });
    expect(JSON.parse(answer.body as string)).toHaveProperty("refresh_token");
    const plain = await readWebResponse(
      new Response("hi", {
        status: 201,
        headers: [
          ["set-cookie", "a=1"],
          ["set-cookie", "b=2"],
        ],
      }),
    );
    expect(plain.status).toBe(201);
    expect(plain.headers["set-cookie"]).toEqual(["a=1", "b=2"]);
    expect(new TextDecoder().decode(plain.body as Uint8Array)).toBe("hi");
  });
});
