import { packageProject } from "../../vitest.shared";

export default packageProject("runtime-tests");
