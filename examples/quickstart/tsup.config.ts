import { packageBuild } from "../../tsup.base";

// An app, not a library: ESM only, no declarations; `pnpm start` runs dist/main.js.
export default packageBuild(["src/index.ts", "src/main.ts"], { format: ["esm"], dts: false });
