// test/conformance.test.ts — run with vitest.
import { runStoreConformance } from "@tokens/core/testing";
import { myStore, type Sql } from "./storage-adapter.js";

declare function connect(url: string): Promise<Sql & { end(): Promise<void> }>;

const url = process.env.POSTGRES_URL;
if (!url) console.warn("POSTGRES_URL is not set: the conformance suite is skipped");
else
  runStoreConformance("my-store (postgres)", async () => {
    // Two pools over the same database, as two server instances would have: the concurrency
    // tests race rotations across them.
    const main = await connect(url);
    const peer = await connect(url);
    return {
      store: myStore(main),
      peers: [myStore(peer)],
      close: async () => {
        await main.end();
        await peer.end();
      },
      faults: {
        // Nothing listens on port 1: every call must reject with StoreUnavailableError.
        unavailable: async () => myStore(await connect("postgres://127.0.0.1:1/none")),
      },
    };
  });
