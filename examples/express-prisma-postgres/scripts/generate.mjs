// Writes prisma/schema.prisma — this app's generator and datasource blocks followed by the
// models @tokens/prisma ships, pasted as its README says — and generates the client into
// src/generated/. Both are build output (gitignored); skipped when nothing changed.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { generatePrismaClient } from "../../../scripts/prisma-generate.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(root, "package.json"));
const models = readFileSync(
  join(dirname(require.resolve("@tokens/prisma/package.json")), "schema", "postgresql.prisma"),
  "utf8",
);

const schema = `generator client {
  provider            = "prisma-client"
  output              = "../src/generated"
  importFileExtension = "js"
}

datasource db {
  provider = "postgresql"
}

${models}`;
generatePrismaClient({
  schema,
  schemaFile: join(root, "prisma", "schema.prisma"),
  output: join(root, "src", "generated", "client.ts"),
  packageJson: join(root, "package.json"),
  cwd: root,
});
