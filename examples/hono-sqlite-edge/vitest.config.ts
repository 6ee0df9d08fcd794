import { packageProject } from "../../vitest.shared";

export default packageProject("hono-sqlite-edge");
