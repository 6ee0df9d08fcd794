import { packageProject } from "../../vitest.shared";

export default packageProject("fastify-drizzle-postgres");
