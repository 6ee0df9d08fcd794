import type { DpopConfig, DpopPolicy } from "@tokens/core";

/** Settings read from the environment. Durations are in seconds. */
export interface QuickstartConfig {
  /** `PORT`, default 3000. */
  port: number;
  /** `HOST`, default: every interface. */
  host: string | undefined;
  /** `ISSUER`, default `http://localhost:$PORT`. */
  issuer: string;
  /** `DATABASE_URL`, default `file:.data/tokens.db` (embedded SQLite); `memory:` for none. */
  databaseUrl: string;
  /** `KEYS_FILE`: where the signing key is kept, default `.data/signing-keys.json`. */
  keysFile: string;
  /** `ACCESS_TOKEN_TTL`. */
  accessTokenTtl?: number;
  /** `REFRESH_IDLE_TTL`. */
  refreshIdleTtl?: number;
  /** `SESSION_MAX_AGE`. */
  sessionMaxAge?: number;
  /** `REUSE_GRACE`. */
  reuseGrace?: number;
  /** `DPOP` (`off`, `allowed`, `required`; default `allowed`) and `DPOP_NONCE` (`true`/`false`). */
  dpop: DpopConfig;
}

/** A setting that cannot be used; `main` prints the message and exits. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

function integer(env: Record<string, string | undefined>, name: string): number | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d+$/.test(raw))
    throw new ConfigError(`${name} must be a whole number of seconds, got "${raw}"`);
  return Number(raw);
}

const DPOP_POLICIES: readonly DpopPolicy[] = ["off", "allowed", "required"];

function dpopSettings(env: Record<string, string | undefined>): DpopConfig {
  const policy = (env.DPOP?.trim() || "allowed").toLowerCase();
  if (!(DPOP_POLICIES as readonly string[]).includes(policy)) {
    throw new ConfigError(`DPOP must be one of ${DPOP_POLICIES.join(", ")}, got "${env.DPOP}"`);
  }
  const nonce = (env.DPOP_NONCE?.trim() || "false").toLowerCase();
  if (nonce !== "true" && nonce !== "false") {
    throw new ConfigError(`DPOP_NONCE must be true or false, got "${env.DPOP_NONCE}"`);
  }
  return { policy: policy as DpopPolicy, requireNonce: nonce === "true" };
}

/**
 * Reads the quickstart's settings from environment variables, or throws {@link ConfigError}.
 * Token lifetimes left unset fall back to tokens' defaults (15 min access tokens, 7 day idle
 * refresh, 30 day sessions, 10 s reuse grace); tokens itself checks their ranges.
 *
 * @example
 * ```ts
 * const config = loadConfig({ PORT: "8080", ACCESS_TOKEN_TTL: "300" });
 * config.issuer; // "http://localhost:8080"
 * ```
 */
export function loadConfig(env: Record<string, string | undefined>): QuickstartConfig {
  const port = integer(env, "PORT") ?? 3000;
  if (port > 65_535) throw new ConfigError(`PORT must be at most 65535, got ${port}`);
  const issuer = env.ISSUER?.trim() || `http://localhost:${port}`;
  if (!URL.canParse(issuer)) throw new ConfigError(`ISSUER must be a URL, got "${issuer}"`);
  const durations = {
    accessTokenTtl: integer(env, "ACCESS_TOKEN_TTL"),
    refreshIdleTtl: integer(env, "REFRESH_IDLE_TTL"),
    sessionMaxAge: integer(env, "SESSION_MAX_AGE"),
    reuseGrace: integer(env, "REUSE_GRACE"),
  };
  return {
    port,
    host: env.HOST?.trim() || undefined,
    issuer,
    databaseUrl: env.DATABASE_URL?.trim() || "file:.data/tokens.db",
    keysFile: env.KEYS_FILE?.trim() || ".data/signing-keys.json",
    dpop: dpopSettings(env),
    ...Object.fromEntries(Object.entries(durations).filter(([, value]) => value !== undefined)),
  };
}
