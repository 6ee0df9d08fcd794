import type { ResolvedConfig } from "./types.js";

/**
 * Whether any client may use DPoP under `config`: the default policy or some client's is not
 * `"off"`. When none may, proofs are not looked at (except for a session bound under an earlier
 * configuration) and the HTTP layer advertises no proof algorithms.
 *
 * @example
 * ```ts
 * import { acceptsDpop } from "@tokens/core";
 *
 * const metadata = acceptsDpop(tokens.config)
 *   ? { dpop_signing_alg_values_supported: tokens.config.dpop.algorithms }
 *   : {};
 * ```
 */
export function acceptsDpop(config: Pick<ResolvedConfig, "dpop">): boolean {
  const { policy, clients } = config.dpop;
  return policy !== "off" || Object.values(clients).some((client) => client !== "off");
}
