/*
 * Vitest global setup: builds the page's script with the example's own build options, so the
 * tests serve exactly what `pnpm build` ships, from the current source.
 */
import { build } from "tsup";
import { pageBuild } from "../../tsup.config.js";

export default async function buildPage(): Promise<void> {
  await build({ ...pageBuild, config: false, silent: true });
}
