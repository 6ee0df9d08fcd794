import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** Vitest global setup: generates the Prisma client (src/generated/, not committed). */
export default function setup(): void {
  const script = fileURLToPath(new URL("../scripts/generate.mjs", import.meta.url));
  const result = spawnSync(process.execPath, [script], { stdio: "inherit" });
  if (result.status !== 0) throw new Error(`generate.mjs failed with status ${result.status}`);
}
