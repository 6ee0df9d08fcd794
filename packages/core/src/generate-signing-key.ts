import { exportJWK, generateKeyPair, generateSecret } from "jose";
import { ConfigurationError } from "./errors.js";
import { randomId } from "./internal/bytes.js";
import type { SigningAlgorithm, SigningKey } from "./types.js";

/**
 * Generates a private signing key as a JWK, ready for `createTokens({ keys })`. Store it as a
 * secret (environment, secret manager); publish only what `tokens.jwks()` returns.
 *
 * @param alg - `EdDSA` (Ed25519, the default: small and fast), `ES256`, `RS256` or `HS256`.
 * @param options.kid - The key id. Default: a random id.
 *
 * @example
 * ```ts
 * import { generateSigningKey } from "@tokens/core";
 *
 * const key = await generateSigningKey("EdDSA");
 * console.log(JSON.stringify(key)); // save as TOKENS_SIGNING_KEY
 * ```
 */
export async function generateSigningKey(
  alg: SigningAlgorithm = "EdDSA",
  options: { kid?: string } = {},
): Promise<SigningKey> {
  const kid = options.kid ?? randomId();
  const use = "sig";
  switch (alg) {
    case "HS256": {
      const secret = await generateSecret("HS256", { extractable: true });
      return { ...(await exportJWK(secret)), kid, alg, use };
    }
    case "EdDSA":
    case "ES256":
    case "RS256": {
      const { privateKey } = await generateKeyPair(alg, {
        extractable: true,
        crv: alg === "EdDSA" ? "Ed25519" : undefined,
      });
      return { ...(await exportJWK(privateKey)), kid, alg, use };
    }
    default:
      throw new ConfigurationError(`generateSigningKey: unsupported alg "${String(alg)}"`);
  }
}
