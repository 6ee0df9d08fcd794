import { packageProject } from "../../vitest.shared";

// The server for the conformance suite: MONGODB_URL, or a FerretDB of the run's own.
export default packageProject("mongodb", { globalSetup: ["test/support/global-setup.ts"] });
