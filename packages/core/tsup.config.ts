import { packageBuild } from "../../tsup.base";

// Split chunks in both formats, so the testing entry shares one copy of core (and its error
// classes) with the main entry.
export default packageBuild(["src/index.ts", "src/testing/index.ts", "src/sql/index.ts"], {
  splitting: true,
});
