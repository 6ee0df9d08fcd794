import { readFileSync } from "node:fs";
import { generatePrismaClient } from "../../../scripts/prisma-generate.mjs";
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
  generatePrismaClient({
    schema,
    schemaFile: `${dir}/schema.prisma`,
    output: `${dir}/client/client.ts`,
    packageJson: `${repoRoot}bench/package.json`,
  });
  const module = (await import(`${dir}/client/client.ts`)) as { PrismaClient: PrismaClientClass };
  return module.PrismaClient;
}
