import { packageProject } from "../../vitest.shared";

export default packageProject("express-mongodb");
