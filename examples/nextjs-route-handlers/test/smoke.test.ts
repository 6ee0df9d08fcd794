import { describe, expect, it } from "vitest";
import { loginRefreshReuse, type Send } from "../../shared/flow.js";
import * as jwks from "../src/app/.well-known/jwks.json/route.js";
import * as me from "../src/app/api/me/route.js";
import * as login from "../src/app/auth/login/route.js";
import * as refresh from "../src/app/auth/token/refresh/route.js";
import * as revoke from "../src/app/auth/token/revoke/route.js";

type Handler = (request: Request) => Promise<Response>;

/** What Next.js does: pick the route file by path and its export by method. */
const routes: Record<string, Record<string, Handler>> = {
  "/auth/login": login,
  "/auth/token/refresh": refresh,
  "/auth/token/revoke": revoke,
  "/api/me": me,
  "/.well-known/jwks.json": jwks,
};

const send: Send = async (path, init = {}) => {
  const handler = routes[path]?.[init.method ?? "GET"];
  if (!handler) return new Response(null, { status: 404 });
  return handler(new Request(`http://localhost:3000${path}`, init));
};

describe("nextjs-route-handlers", () => {
  it("logs in, calls /api/me, rotates, and revokes the session on reuse", async () => {
    await loginRefreshReuse(send, "user_demo");
  });

  it("publishes the public key set", async () => {
    const response = await send("/.well-known/jwks.json");
    expect(response.status).toBe(200);
    const body = (await response.json()) as { keys: Array<Record<string, unknown>> };
    expect(body.keys).toHaveLength(1);
    expect(body.keys[0]).not.toHaveProperty("d");
  });
});
