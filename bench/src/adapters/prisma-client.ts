import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { repoRoot } from "../lib/context.js";
import type { Dialect } from "./database.js";

/** A generated Prisma client, as far as the benchmark touches it. */
export type PrismaClientClass = new (options: {
  adapter: unknown;
}) => {
  $disconnect(): Promise<void>;
};

/**
 * Generates (once per schema change) and loads a Prisma client for the models @tokens/prisma
 * ships, behind the generator and datasource blocks a user would write — into bench/.generated,
 * so nothing outside the benchmark is touched.
 */
export async function prismaClient(dialect: Dialect): Promise<PrismaClientClass> {
  const dir = `${repoRoot}bench/.generated/prisma/${dialect}`;
  const schema = `generator client {
  provider            = "prisma-client"
  output              = "./client"
  importFileExtension = "js"
}

datasource db {
  provider = "${dialect}"
}

${readFileSync(`${repoRoot}packages/prisma/schema/${dialect}.prisma`, "utf8")}`;
  const require = createRequire(`${repoRoot}bench/package.json`);
  const version = (require("prisma/package.json") as { version: string }).version;
  const stamp = createHash("sha256").update(`${version}\n${schema}`).digest("hex");
  const stampFile = `${dir}/stamp`;
  if (!existsSync(stampFile) || readFileSync(stampFile, "utf8") !== stamp) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/schema.prisma`, schema);
    const result = spawnSync(
      process.execPath,
      [require.resolve("prisma/build/index.js"), "generate", "--schema", `${dir}/schema.prisma`],
      {
        cwd: dir,
        encoding: "utf8",
        env: {
          ...process.env,
          // Generating a client needs no schema engine, but the CLI checks that one exists (and
          // would download it): any existing file satisfies the check offline.
          PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
          PRISMA_HIDE_UPDATE_MESSAGE: "1",
          CHECKPOINT_DISABLE: "1",
        },
      },
    );
    if (result.status !== 0) {
      throw new Error(`prisma generate failed: ${result.stderr || result.stdout}`);
    }
    writeFileSync(stampFile, stamp);
  }
  const module = (await import(`${dir}/client/client.ts`)) as { PrismaClient: PrismaClientClass };
  return module.PrismaClient;
}
