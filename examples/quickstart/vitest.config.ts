import { packageProject } from "../../vitest.shared";

export default packageProject("quickstart", { globalSetup: ["test/support/build-page.ts"] });
