import { runStoreConformance } from "@tokens/core/testing";
import { openPostgres, preparePostgres, suiteFor } from "./support/databases.js";

suiteFor("POSTGRES_URL", "PostgreSQL")("prisma: PostgreSQL server", () => {
  // Both suites share one freshly migrated database; each opens its own clients.
  let prepared: Promise<string> | undefined;
  const database = () => {
    prepared ??= preparePostgres(process.env.POSTGRES_URL as string);
    return prepared;
  };
  runStoreConformance(
    "default queries (one UPDATE … RETURNING through the driver adapter)",
    async () => openPostgres(await database()),
  );
  runStoreConformance("portable queries (findUnique, then a conditional updateMany)", async () =>
    openPostgres(await database(), { dialect: "portable" }),
  );
});
