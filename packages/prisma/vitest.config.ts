import { packageProject } from "../../vitest.shared";

export default packageProject("prisma", { globalSetup: ["./test/support/generate.ts"] });
