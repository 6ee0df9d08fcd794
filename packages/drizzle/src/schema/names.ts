/**
 * Table names for the two tables tokens keeps. Both default to a `tokens_` prefix so they sit
 * next to an app's own tables without clashing.
 *
 * @example
 * ```ts
 * import { pgTokensTables, type TokensTableNames } from "@tokens/drizzle";
 *
 * const names: TokensTableNames = { sessions: "auth_sessions", tokens: "auth_refresh_tokens" };
 * export const { sessions, tokens } = pgTokensTables(names);
 * ```
 */
export interface TokensTableNames {
  /** The sessions table (one row per login session). Default `tokens_sessions`. */
  sessions?: string;
  /** The refresh-token table (one row per token ever issued). Default `tokens_refresh_tokens`. */
  tokens?: string;
}

/** The table names with defaults applied, plus the names of the constraints and indexes. */
export function resolveNames(names: TokensTableNames = {}) {
  const sessions = names.sessions ?? "tokens_sessions";
  const tokens = names.tokens ?? "tokens_refresh_tokens";
  // Index and constraint names are derived from the table names because PostgreSQL and SQLite
  // require them to be unique per schema, so two sets of tables must not share them.
  return {
    sessions,
    tokens,
    subjectIndex: `${sessions}_subject_idx`,
    currentHashIndex: `${sessions}_current_hash_idx`,
    idleExpiresIndex: `${sessions}_idle_expires_at_idx`,
    expiresIndex: `${sessions}_expires_at_idx`,
    revokedIndex: `${sessions}_revoked_at_idx`,
    sessionIdIndex: `${tokens}_session_id_idx`,
    sessionForeignKey: `${tokens}_session_id_fk`,
  };
}
