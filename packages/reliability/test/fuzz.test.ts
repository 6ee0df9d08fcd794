import { runFuzz } from "./fuzz.js";
import { BINDINGS, ROUTING } from "./servers.js";

// One file, bindings in sequence: on two cores, parallel fuzzing only slows every server down.
runFuzz("node:http", BINDINGS.node, ROUTING.node);
runFuzz("express", BINDINGS.express, ROUTING.express);
runFuzz("hono", BINDINGS.hono, ROUTING.hono);

/*
 * On requests the binding does not own, Fastify's content-type parsing answers bodies it cannot
 * parse with 400/415 in Fastify's error shape ({ statusCode, code, error, message }) before
 * anything else runs: on the app's own routes (`POST /login`), and on requests no route matches
 * (an app route's unregistered method, unknown paths, path variants Fastify's router does not
 * fold), whose 404 Fastify only sends after parsing the body. Those answers are the app's
 * framework's, counted and printed rather than failed; runFuzz never consults this for a
 * request that reaches the tokens plugin or requireAuth.
 */
runFuzz("fastify", BINDINGS.fastify, ROUTING.fastify, (_spec, response, body) => {
  if ((response.status === 400 || response.status === 415) && body.includes('"statusCode"')) {
    return `Fastify-shaped ${response.status} from its content-type parser`;
  }
  return undefined;
});
