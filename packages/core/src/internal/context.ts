import { ConfigurationError } from "../errors.js";
import type { TokenStore } from "../store.js";
import type { ResolvedConfig, TokensConfig, TokensEvent } from "../types.js";
import { count, DAY, seconds } from "./config-values.js";
import { resolveDpop } from "./dpop-config.js";
import { DpopVerifier } from "./dpop-proof.js";
import { KeyRing } from "./key-ring.js";

/** Everything an operation needs: resolved settings, the store, the keys, time and events. */
export interface Context {
  config: ResolvedConfig;
  store: TokenStore;
  keys: KeyRing;
  now: () => number;
  emit: (event: TokensEvent) => void;
  /** Whether an event hook is configured (so events worth an extra read are wanted). */
  observed: boolean;
  /** Checks DPoP proofs and makes nonces. */
  dpop: DpopVerifier;
}

/** The methods of the store contract, all of them required. */
export const STORE_METHODS = [
  "createSession",
  "getSession",
  "rotate",
  "listSessions",
  "revokeSession",
  "revokeSubject",
  "purge",
] as const satisfies ReadonlyArray<keyof TokenStore>;

export function createContext(config: TokensConfig): Context {
  if (typeof config !== "object" || config === null)
    throw new ConfigurationError("config object required");
  const store = config.store;
  if (typeof store !== "object" || store === null) {
    throw new ConfigurationError("store: a TokenStore is required");
  }
  const missing = STORE_METHODS.filter((name) => typeof store[name] !== "function");
  if (missing.length > 0) {
    throw new ConfigurationError(`store: not a TokenStore (no ${missing.join(", ")})`);
  }
  if (typeof config.issuer !== "string" || config.issuer.length === 0) {
    throw new ConfigurationError("issuer: a non-empty string is required");
  }
  const audience = Array.isArray(config.audience) ? config.audience : [config.audience];
  if (audience.length === 0 || !audience.every((a) => typeof a === "string" && a.length > 0)) {
    throw new ConfigurationError("audience: a non-empty string (or array of them) is required");
  }
  const sessionMaxAge = seconds("sessionMaxAge", config.sessionMaxAge, 30 * DAY, 60);
  const resolved: ResolvedConfig = {
    issuer: config.issuer,
    audience,
    accessTokenTtl: seconds("accessTokenTtl", config.accessTokenTtl, 900, 1),
    refreshIdleTtl: Math.min(
      seconds("refreshIdleTtl", config.refreshIdleTtl, 7 * DAY, 60),
      sessionMaxAge,
    ),
    sessionMaxAge,
    reuseGrace: seconds("reuseGrace", config.reuseGrace, 10, 0, 300),
    clockTolerance: seconds("clockTolerance", config.clockTolerance, 5, 0, 300),
    binding: {
      deviceId: config.binding?.deviceId ?? "exact",
      userAgent: config.binding?.userAgent ?? "off",
      ip: config.binding?.ip ?? "off",
      onMismatch: config.binding?.onMismatch ?? "reject",
    },
    maxSessionsPerSubject: count("maxSessionsPerSubject", config.maxSessionsPerSubject),
    defaultClientId: config.defaultClientId ?? "default",
    purgeRetention: seconds("purgeRetention", config.purgeRetention, DAY, 0),
    dpop: resolveDpop(config.dpop),
  };
  if (typeof resolved.defaultClientId !== "string" || resolved.defaultClientId.length === 0) {
    throw new ConfigurationError("defaultClientId: a non-empty string is required");
  }
  const onEvent = config.onEvent;
  const keys = new KeyRing(config.keys, config.activeKeyId);
  const now = config.now ?? Date.now;
  return {
    config: resolved,
    store,
    keys,
    now,
    dpop: new DpopVerifier(resolved, keys.nonceKey, now),
    observed: onEvent !== undefined,
    // Hooks are for audit and alerting: they must never break or slow the token flow.
    emit: onEvent
      ? (event) => {
          try {
            Promise.resolve(onEvent(event)).catch(() => {});
          } catch {}
        }
      : () => {},
  };
}
