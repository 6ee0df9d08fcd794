import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * Vitest global setup: generates the Prisma clients the suites import (test/generated/, not
 * committed), so a fresh clone needs no separate step. Skips providers already up to date.
 */
export default function setup(): void {
  const script = fileURLToPath(new URL("../../scripts/generate.mjs", import.meta.url));
  const result = spawnSync(process.execPath, [script], { stdio: "inherit" });
  if (result.status !== 0)
    throw new Error(`scripts/generate.mjs failed with status ${result.status}`);
}
