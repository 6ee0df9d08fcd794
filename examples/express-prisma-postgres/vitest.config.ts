import { packageProject } from "../../vitest.shared";

export default packageProject("express-prisma-postgres", {
  globalSetup: ["./test/generate.ts"],
});
