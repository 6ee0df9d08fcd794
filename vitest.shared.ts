import { fileURLToPath } from "node:url";
import { defineProject, type UserProjectConfigExport } from "vitest/config";

const source = (path: string) => fileURLToPath(new URL(`./packages/${path}`, import.meta.url));

/** Tests import workspace packages from source, so no build is needed between edits. */
const alias = [
  { find: /^@tokens\/core\/testing$/, replacement: source("core/src/testing/index.ts") },
  { find: /^@tokens\/core\/sql$/, replacement: source("core/src/sql/index.ts") },
  ...[
    "core",
    "memory",
    "drizzle",
    "prisma",
    "mongodb",
    "http",
    "express",
    "fastify",
    "hono",
    "client",
  ].map((name) => ({
    find: new RegExp(`^@tokens/${name}$`),
    replacement: source(`${name}/src/index.ts`),
  })),
];

/** One vitest project per package; `name` shows in reports. */
export function packageProject(
  name: string,
  test: Record<string, unknown> = {},
): UserProjectConfigExport {
  return defineProject({
    resolve: { alias },
    test: {
      name,
      include: ["test/**/*.test.ts"],
      testTimeout: 30_000,
      hookTimeout: 60_000,
      ...test,
    },
  });
}
