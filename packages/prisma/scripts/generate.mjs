// Generates the Prisma clients the tests and typecheck use, one per provider, from the schema
// fragments users paste (schema/<provider>.prisma) behind a generator and datasource block, so the
// tests exercise exactly what the README tells users to ship. Output: test/generated/ (gitignored).
//
// Runs from `pnpm --filter @tokens/prisma generate`, the typecheck script and the vitest global
// setup; it skips a provider whose inputs have not changed since its last generation.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const providers = ["postgresql", "mysql", "sqlite"];
const require = createRequire(join(root, "package.json"));
const prismaCli = require.resolve("prisma/build/index.js");
const prismaVersion = JSON.parse(
  readFileSync(require.resolve("prisma/package.json"), "utf8"),
).version;

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

function generate() {
  for (const provider of providers) {
    const schema =
      header(provider) + readFileSync(join(root, "schema", `${provider}.prisma`), "utf8");
    const dir = join(root, "test", "generated", provider);
    const stampFile = join(dir, "stamp");
    const stamp = createHash("sha256").update(`${prismaVersion}\n${schema}`).digest("hex");
    if (existsSync(join(dir, "client", "client.ts")) && readStamp(stampFile) === stamp) continue;

    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "schema.prisma"), schema);
    const result = spawnSync(
      process.execPath,
      [prismaCli, "generate", "--schema", join(dir, "schema.prisma")],
      {
        cwd: dir,
        encoding: "utf8",
        env: {
          ...process.env,
          // `prisma generate` insists that a schema-engine binary exists (downloading it if not) but
          // never runs it: generating the client needs no engine. Pointing the check at an existing
          // file lets generation work offline; an explicit setting wins.
          PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
          PRISMA_HIDE_UPDATE_MESSAGE: "1",
          CHECKPOINT_DISABLE: "1",
        },
      },
    );
    if (result.status !== 0) {
      throw new Error(
        `prisma generate failed for ${provider}:\n${result.stdout}\n${result.stderr}`,
      );
    }
    writeFileSync(stampFile, stamp);
  }
}

function readStamp(file) {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

generate();
