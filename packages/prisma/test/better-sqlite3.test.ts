import { runStoreConformance } from "@tokens/core/testing";
import { openSqlite } from "./support/databases.js";

// A SQLite file through better-sqlite3, with peers in other processes: always runs.
runStoreConformance("prisma: SQLite (better-sqlite3)", () => openSqlite("better-sqlite3"));
