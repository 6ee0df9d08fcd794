import { runStoreConformance } from "@tokens/core/testing";
import { openSqlite } from "./support/databases.js";

// A SQLite file through libSQL, with peers in other processes: always runs.
runStoreConformance("prisma: SQLite (libSQL)", () => openSqlite("libsql"));
