// `prisma generate` as the Prisma store's tests, the Express + Prisma example and the benchmark
// run it: offline, and skipped when neither the schema nor the Prisma version changed since the
// last run (a stamp file beside the schema records both).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/**
 * Writes `schema` to `schemaFile` and generates its client, unless the stamp beside it matches
 * and `output` (a file the generated client contains) exists.
 *
 * @param {object} options
 * @param {string} options.schema - The whole schema: generator and datasource blocks, then models.
 * @param {string} options.schemaFile - Where to write it (its directory also holds the stamp).
 * @param {string} options.output - A file of the generated client, proof a generation finished.
 * @param {string} options.packageJson - The package whose `prisma` dependency runs the generation.
 * @param {string} [options.cwd] - Working directory of the CLI; default: the schema's directory.
 * @returns {boolean} Whether a generation ran.
 */
export function generatePrismaClient({ schema, schemaFile, output, packageJson, cwd }) {
  const require = createRequire(packageJson);
  const version = JSON.parse(readFileSync(require.resolve("prisma/package.json"), "utf8")).version;
  const dir = dirname(schemaFile);
  const stampFile = join(dir, "stamp");
  const stamp = createHash("sha256").update(`${version}\n${schema}`).digest("hex");
  if (existsSync(output) && existsSync(stampFile) && readFileSync(stampFile, "utf8") === stamp) {
    return false;
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(schemaFile, schema);
  const result = spawnSync(
    process.execPath,
    [require.resolve("prisma/build/index.js"), "generate", "--schema", schemaFile],
    {
      cwd: cwd ?? dir,
      encoding: "utf8",
      env: {
        ...process.env,
        // `prisma generate` insists that a schema-engine binary exists (downloading it if not) but
        // never runs it: generating a client needs no engine. Pointing the check at an existing
        // file lets generation work offline; an explicit setting wins.
        PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
        PRISMA_HIDE_UPDATE_MESSAGE: "1",
        CHECKPOINT_DISABLE: "1",
      },
    },
  );
  if (result.status !== 0) {
    throw new Error(
      `prisma generate failed for ${schemaFile}:\n${result.stdout}\n${result.stderr}`,
    );
  }
  writeFileSync(stampFile, stamp);
  return true;
}
