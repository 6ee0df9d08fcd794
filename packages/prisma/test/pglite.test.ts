import { runStoreConformance } from "@tokens/core/testing";
import { openPglite } from "./support/databases.js";

// In-process PostgreSQL: always runs, with the default (single-statement) PostgreSQL queries.
runStoreConformance("prisma: PGlite", () => openPglite());
