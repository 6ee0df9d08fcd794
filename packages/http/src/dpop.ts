import type { ResolvedConfig } from "@tokens/core";

/**
 * The proof algorithms clients may use (RFC 9449 §5.1 `dpop_signing_alg_values_supported`, §7.1
 * `algs`), or `undefined` when the policy is "off" for every client and DPoP is never accepted.
 */
export function acceptedProofAlgorithms(config: ResolvedConfig): readonly string[] | undefined {
  const { policy, clients, algorithms } = config.dpop;
  const used = policy !== "off" || Object.values(clients).some((client) => client !== "off");
  return used ? algorithms : undefined;
}
