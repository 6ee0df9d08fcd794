/**
 * The load client: a child process (so its CPU is not the server's) that runs autocannon jobs
 * sent over IPC. Each autocannon connection is one virtual client that always presents the refresh
 * token it received last, so every request is a real rotation.
 */
import autocannon from "autocannon";
import type { LoadJob, LoadResult } from "./protocol.js";

interface ChainState {
  token: string;
}

// autocannon clears the per-connection context after each request when a connection loops over
// a single request, so the chain state lives on the connection's request iterator instead.
interface AutocannonClient {
  requestIterator: { context: ChainState; resetContext(): void; rebuildRequest(): void };
}

function run(job: LoadJob): Promise<LoadResult> {
  let next = 0;
  let ok = 0;
  let failed = 0;
  let failure: string | undefined;
  const { request } = job;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${job.port}`,
        connections: job.tokens.length,
        pipelining: 1,
        duration: job.durationSec,
        timeout: 30,
        setupClient: ((client: AutocannonClient) => {
          const iterator = client.requestIterator;
          iterator.context = { token: job.tokens[next++ % job.tokens.length] as string };
          iterator.resetContext = () => {};
          iterator.rebuildRequest();
        }) as never,
        requests: [
          {
            method: request.method,
            path: request.path,
            headers: request.headers,
            setupRequest: ((req: Record<string, unknown>, context: ChainState) => ({
              ...req,
              body: request.body.replace("{token}", context.token),
            })) as never,
            onResponse: ((status: number, body: string, context: ChainState) => {
              if (status >= 200 && status < 300) {
                ok++;
                if (request.next) {
                  const token = (JSON.parse(body) as Record<string, unknown>)[request.next];
                  if (typeof token === "string") context.token = token;
                }
              } else {
                failed++;
                failure ??= `${status} ${body.slice(0, 300)}`;
              }
            }) as never,
          },
        ],
      },
      (error, result) => {
        if (error) return reject(error);
        const seconds = result.duration;
        resolve({
          type: "result",
          id: job.id,
          ok,
          failed,
          errors: result.errors + result.timeouts,
          rate: ok / seconds,
          failure,
        });
      },
    );
    instance.on("error", reject);
  });
}

process.on("message", (message: LoadJob | { type: "close" }) => {
  if (message.type === "close") process.exit(0);
  run(message).then(
    (result) => process.send?.(result),
    (error: Error) =>
      process.send?.({
        type: "result",
        id: message.id,
        ok: 0,
        failed: 0,
        errors: 1,
        rate: 0,
        failure: error.message,
      } satisfies LoadResult),
  );
});
