import { fileURLToPath } from "node:url";
import type { Options } from "tsup";
import { packageBuild } from "../../tsup.base";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * The page's script for the browser: `src/browser/app.ts` with `@tokens/client` bundled in, as
 * an app's own bundler would ship it (no CDN). The server serves it as `/app.js`. The browser
 * tests build it with these same options before they run.
 *
 * @example
 * ```ts
 * import { build } from "tsup";
 *
 * await build({ ...pageBuild, config: false });
 * ```
 */
export const pageBuild: Options = {
  entry: { app: here("src/browser/app.ts") },
  outDir: here("dist/public"),
  format: ["esm"],
  platform: "browser",
  target: "es2022",
  noExternal: [/./],
  dts: false,
  // No map: the server does not serve one, and a browser asking for it would get a 404.
  sourcemap: false,
  clean: true,
};

// An app, not a library: ESM only, no declarations; `pnpm start` runs dist/main.js.
export default [
  packageBuild(["src/index.ts", "src/main.ts"], {
    format: ["esm"],
    dts: false,
    // dist/public is the page build's.
    clean: ["!public/**"],
  }),
  pageBuild,
];
