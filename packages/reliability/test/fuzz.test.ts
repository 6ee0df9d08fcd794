import { runFuzz } from "./fuzz.js";
import { BINDINGS } from "./servers.js";

// One file, bindings in sequence: on two cores, parallel fuzzing only slows every server down.
runFuzz("node:http", BINDINGS.node);
runFuzz("express", BINDINGS.express);
runFuzz("hono", BINDINGS.hono);

/*
 * Known @tokens/fastify deviations, counted and printed by the run rather than failed:
 * - Fastify's own content-type parsing answers 400/415 in Fastify's error shape
 *   ({ statusCode, code, error, message }) before the plugin's handlers run;
 * - HEAD on a GET route guarded by `requireAuth` answers 500.
 */
runFuzz("fastify", BINDINGS.fastify, (spec, response, body) => {
  if (spec.method === "HEAD" && response.status === 500 && spec.path.startsWith("/api/")) {
    return "HEAD on a requireAuth route answers 500";
  }
  if ((response.status === 400 || response.status === 415) && body.includes('"statusCode"')) {
    return `Fastify-shaped ${response.status} from its content-type parser`;
  }
  return undefined;
});
