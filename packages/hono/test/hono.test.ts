import { createAdaptorServer } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { Hono } from "hono";
import { listen, loginFromUrl, runHttpSuite } from "../../http/test/suite.js";
import { requireAuth, tokensApp } from "../src/index.js";

runHttpSuite("hono", async (handlers) => {
  const clientIp = (c: Parameters<typeof getConnInfo>[0]) => getConnInfo(c).remote.address;
  const app = new Hono()
    .route("/", tokensApp(handlers, { clientIp }))
    .post("/login", async (c) => {
      const user = loginFromUrl(new URL(c.req.url));
      if (!user) return c.json({ error: "invalid_credentials" }, 401);
      return handlers.issue(c.req.raw, user, { ip: clientIp(c) });
    })
    .get("/api/me", requireAuth(handlers), (c) => c.json({ auth: c.get("auth") }))
    .get("/api/strict", requireAuth(handlers, { checkSession: true }), (c) =>
      c.json({ auth: c.get("auth") }),
    );
  return listen(createAdaptorServer({ fetch: app.fetch }) as import("node:http").Server);
});
