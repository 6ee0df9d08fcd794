import { packageProject } from "../../vitest.shared";

/** Long runs, outside the normal test run: `pnpm --filter @tokens/reliability test:stress`. */
export default packageProject("reliability-stress", {
  include: ["stress/**/*.stress.ts"],
  testTimeout: 300_000,
  // Heap is measured after forced collections.
  execArgv: ["--expose-gc"],
});
