import { packageProject } from "../../vitest.shared";

// The server for the smoke test: MONGODB_URL, or a FerretDB of the run's own.
export default packageProject("express-mongodb", {
  globalSetup: ["../../packages/mongodb/test/support/global-setup.ts"],
});
