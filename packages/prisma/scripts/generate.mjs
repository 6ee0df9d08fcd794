// Generates the Prisma clients the tests and typecheck use, one per provider, from the schema
// fragments users paste (schema/<provider>.prisma) behind a generator and datasource block, so the
// tests exercise exactly what the README tells users to ship. Output: test/generated/ (gitignored).
//
// Runs from `pnpm --filter @tokens/prisma generate`, the typecheck script and the vitest global
// setup; it skips a provider whose inputs have not changed since its last generation.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { generatePrismaClient } from "../../../scripts/prisma-generate.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const providers = ["postgresql", "mysql", "sqlite"];

/** The generator and datasource blocks that stand in for a user's own. */
function header(provider) {
  return `generator client {
  provider            = "prisma-client"
  output              = "./client"
  importFileExtension = "js"
}

datasource db {
  provider = "${provider}"
}

`;
}

for (const provider of providers) {
  const dir = join(root, "test", "generated", provider);
  generatePrismaClient({
    schema: header(provider) + readFileSync(join(root, "schema", `${provider}.prisma`), "utf8"),
    schemaFile: join(dir, "schema.prisma"),
    output: join(dir, "client", "client.ts"),
    packageJson: join(root, "package.json"),
  });
}
