import { packageProject } from "../../vitest.shared";

export default packageProject("nextjs-route-handlers");
