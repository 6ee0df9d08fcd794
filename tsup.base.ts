import { defineConfig, type Options } from "tsup";

/** The one build every published package shares: ESM + CJS + declarations. */
export function packageBuild(entry: string[], overrides: Options = {}) {
  return defineConfig({
    entry,
    format: ["esm", "cjs"],
    dts: true,
    clean: true,
    sourcemap: true,
    target: "es2022",
    ...overrides,
  });
}
