/**
 * The name of the one table tokens keeps. It defaults to a `tokens_` prefix so it sits next to an
 * app's own tables without clashing.
 *
 * @example
 * ```ts
 * import { pgTokensTables, type TokensTableNames } from "@tokens/drizzle";
 *
 * const names: TokensTableNames = { sessions: "auth_sessions" };
 * export const { sessions } = pgTokensTables(names);
 * ```
 */
export interface TokensTableNames {
  /** The sessions table (one row per login session). Default `tokens_sessions`. */
  sessions?: string;
}

/** The table name with its default applied, plus the names of its indexes. */
export function resolveNames(names: TokensTableNames = {}) {
  const sessions = names.sessions ?? "tokens_sessions";
  // Index names are derived from the table name because PostgreSQL and SQLite require them to be
  // unique per schema, so two sets of tables must not share them.
  return {
    sessions,
    subjectIndex: `${sessions}_subject_idx`,
    purgeAfterIndex: `${sessions}_purge_after_idx`,
  };
}
