/** See prisma-generate.mjs. */
export function generatePrismaClient(options: {
  schema: string;
  schemaFile: string;
  output: string;
  packageJson: string;
  cwd?: string;
}): boolean;
