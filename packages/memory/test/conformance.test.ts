import { runStoreConformance } from "@tokens/core/testing";
import { memoryStore } from "../src/index.js";

// A memory store has no connections: its "peers" are the same instance, which is what several
// callers in one process share. It cannot be unreachable, so the fault tests are skipped.
runStoreConformance("memory", async () => {
  const store = memoryStore();
  return { store, peers: [store] };
});
