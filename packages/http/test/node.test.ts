import { serveOnNode } from "./fixtures/node-server.js";
import { createApp } from "./fixtures/web-app.js";
import { listen, loginFromUrl, runHttpSuite } from "./suite.js";

runHttpSuite("node:http", async (handlers) =>
  listen(serveOnNode(createApp(handlers, async (request) => loginFromUrl(new URL(request.url))))),
);
