export type { AnyMySqlDatabase } from "./dialects/mysql.js";
export type { AnyPgDatabase } from "./dialects/pg.js";
export type { AnySQLiteDatabase } from "./dialects/sqlite.js";
export { type MySqlTokensTables, mysqlTokensSessions, mysqlTokensTables } from "./schema/mysql.js";
export type { TokensTableNames } from "./schema/names.js";
export { type PgTokensTables, pgTokensSessions, pgTokensTables } from "./schema/pg.js";
export {
  type SQLiteTokensTables,
  sqliteTokensSessions,
  sqliteTokensTables,
} from "./schema/sqlite.js";
export { type DrizzleDialect, type DrizzleStoreOptions, drizzleStore } from "./store.js";
