import { acceptsDpop, type ResolvedConfig } from "@tokens/core";

/**
 * The proof algorithms clients may use (RFC 9449 §5.1 `dpop_signing_alg_values_supported`, §7.1
 * `algs`), or `undefined` when the policy is "off" for every client and DPoP is never accepted.
 */
export function acceptedProofAlgorithms(config: ResolvedConfig): readonly string[] | undefined {
  return acceptsDpop(config) ? config.dpop.algorithms : undefined;
}
