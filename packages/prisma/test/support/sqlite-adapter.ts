import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaLibSql } from "@prisma/adapter-libsql";

/** The SQLite drivers the suites run Prisma on. */
export type SqliteDriver = "libsql" | "better-sqlite3";

/**
 * A Prisma driver adapter over the SQLite database at `url` (`file:<path>`, which both adapters
 * read). `timeout` is SQLite's busy timeout: a writer waits for the file lock instead of failing.
 */
export function sqliteAdapter(
  driver: SqliteDriver,
  url: string,
): PrismaLibSql | PrismaBetterSqlite3 {
  return driver === "libsql"
    ? new PrismaLibSql({ url, timeout: 10_000 })
    : new PrismaBetterSqlite3({ url, timeout: 10_000 });
}
