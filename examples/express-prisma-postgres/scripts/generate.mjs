// Writes prisma/schema.prisma — this app's generator and datasource blocks followed by the
// models @tokens/prisma ships, pasted as its README says — and generates the client into
// src/generated/. Both are build output (gitignored); skipped when nothing changed.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(root, "package.json"));
const prismaCli = require.resolve("prisma/build/index.js");
const prismaVersion = JSON.parse(
  readFileSync(require.resolve("prisma/package.json"), "utf8"),
).version;
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
const stamp = createHash("sha256").update(`${prismaVersion}\n${schema}`).digest("hex");
const stampFile = join(root, "prisma", "stamp");
const current = existsSync(stampFile) ? readFileSync(stampFile, "utf8") : undefined;
if (current !== stamp || !existsSync(join(root, "src", "generated", "client.ts"))) {
  mkdirSync(join(root, "prisma"), { recursive: true });
  writeFileSync(join(root, "prisma", "schema.prisma"), schema);
  const result = spawnSync(
    process.execPath,
    [prismaCli, "generate", "--schema", join(root, "prisma", "schema.prisma")],
    {
      cwd: root,
      encoding: "utf8",
      env: {
        ...process.env,
        // `prisma generate` checks that a schema-engine binary exists but never runs it:
        // pointing the check at an existing file lets generation work offline.
        PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
        PRISMA_HIDE_UPDATE_MESSAGE: "1",
        CHECKPOINT_DISABLE: "1",
      },
    },
  );
  if (result.status !== 0) {
    throw new Error(`prisma generate failed:\n${result.stdout}\n${result.stderr}`);
  }
  writeFileSync(stampFile, stamp);
}
