import { ConfigurationError } from "../errors.js";
import type { DpopAlgorithm, DpopConfig, DpopPolicy } from "../types.js";
import { count, seconds } from "./config-values.js";

/** Every algorithm a proof may use: asymmetric signatures only (RFC 9449 §4.2). */
export const DPOP_ALGORITHMS: ReadonlySet<string> = new Set<DpopAlgorithm>([
  "EdDSA",
  "ES256",
  "ES384",
  "ES512",
  "PS256",
  "PS384",
  "PS512",
  "RS256",
  "RS384",
  "RS512",
]);

const DEFAULT_ALGORITHMS: DpopAlgorithm[] = ["ES256", "EdDSA", "ES384", "PS256", "RS256"];
const POLICIES: ReadonlySet<string> = new Set<DpopPolicy>(["off", "allowed", "required"]);

/** Whether `value` is a {@link DpopPolicy}. */
export function isDpopPolicy(value: unknown): value is DpopPolicy {
  return typeof value === "string" && POLICIES.has(value);
}

/** The DPoP settings with every default applied; a `ConfigurationError` for any bad value. */
export function resolveDpop(config: DpopConfig | undefined): Required<DpopConfig> {
  if (config === undefined) config = {};
  if (typeof config !== "object" || config === null) {
    throw new ConfigurationError("dpop: an object is required");
  }
  const policy = config.policy ?? "allowed";
  if (!isDpopPolicy(policy)) {
    throw new ConfigurationError(`dpop.policy: expected off, allowed or required, got ${policy}`);
  }
  if (config.requireNonce !== undefined && typeof (config.requireNonce as unknown) !== "boolean") {
    throw new ConfigurationError("dpop.requireNonce: expected a boolean");
  }
  return {
    policy,
    clients: clientPolicies(config.clients),
    algorithms: algorithms(config.algorithms),
    proofMaxAge: seconds("dpop.proofMaxAge", config.proofMaxAge, 60, 1, 3600),
    requireNonce: config.requireNonce ?? false,
    nonceLifetime: seconds("dpop.nonceLifetime", config.nonceLifetime, 300, 1, 86_400),
    replayCacheSize: count("dpop.replayCacheSize", config.replayCacheSize, 100_000, 10_000_000),
  };
}

function clientPolicies(clients: unknown = {}): Record<string, DpopPolicy> {
  if (typeof clients !== "object" || clients === null || Array.isArray(clients)) {
    throw new ConfigurationError("dpop.clients: expected an object of client_id to policy");
  }
  // A null prototype: a client named "constructor" or "__proto__" is a client like any other.
  const resolved: Record<string, DpopPolicy> = Object.create(null);
  for (const [clientId, policy] of Object.entries(clients)) {
    if (!isDpopPolicy(policy)) {
      throw new ConfigurationError(
        `dpop.clients.${clientId}: expected off, allowed or required, got ${String(policy)}`,
      );
    }
    resolved[clientId] = policy;
  }
  return resolved;
}

function algorithms(list: unknown): DpopAlgorithm[] {
  if (list === undefined) return [...DEFAULT_ALGORITHMS];
  if (!Array.isArray(list) || list.length === 0) {
    throw new ConfigurationError("dpop.algorithms: a non-empty array is required");
  }
  for (const alg of list) {
    if (typeof alg === "string" && (alg === "none" || alg.startsWith("HS"))) {
      // A proof's key is public: with `none` or a MAC anyone could make the proof.
      throw new ConfigurationError(
        `dpop.algorithms: "${alg}" is not an asymmetric algorithm; proofs must be signatures`,
      );
    }
    if (typeof alg !== "string" || !DPOP_ALGORITHMS.has(alg)) {
      throw new ConfigurationError(`dpop.algorithms: unsupported algorithm ${String(alg)}`);
    }
  }
  return [...new Set(list as DpopAlgorithm[])];
}
