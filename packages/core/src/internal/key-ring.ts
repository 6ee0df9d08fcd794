import { base64url, type CryptoKey, importJWK, type JWK } from "jose";
import { ConfigurationError } from "../errors.js";
import type { SigningAlgorithm, SigningKey } from "../types.js";

/** The key type and curve each algorithm requires: a key is only ever used under its own alg. */
const KEY_SHAPE: Record<SigningAlgorithm, { kty: string; crv?: string; secret: "d" | "k" }> = {
  EdDSA: { kty: "OKP", crv: "Ed25519", secret: "d" },
  ES256: { kty: "EC", crv: "P-256", secret: "d" },
  RS256: { kty: "RSA", secret: "d" },
  HS256: { kty: "oct", secret: "k" },
};

const PRIVATE_MEMBERS = new Set(["d", "p", "q", "dp", "dq", "qi", "oth", "k"]);

interface LoadedKey {
  kid: string;
  alg: SigningAlgorithm;
  signing: CryptoKey;
  verifying: CryptoKey;
}

/**
 * The configured keys, checked once at set-up and imported once as `CryptoKey`s (importing per
 * call would cost more than the signature itself).
 */
export class KeyRing {
  readonly activeKid: string;
  readonly publicJwks: JWK[];
  private readonly jwks: Map<string, SigningKey>;
  private loaded: Promise<Map<string, LoadedKey>> | undefined;

  constructor(keys: unknown, activeKid: unknown) {
    if (!Array.isArray(keys) || keys.length === 0) {
      throw new ConfigurationError("keys: at least one signing key is required");
    }
    this.jwks = new Map();
    for (const key of keys as SigningKey[]) {
      checkKey(key);
      if (this.jwks.has(key.kid)) throw new ConfigurationError(`keys: duplicate kid "${key.kid}"`);
      this.jwks.set(key.kid, key);
    }
    const active = activeKid ?? (keys[0] as SigningKey).kid;
    if (typeof active !== "string" || !this.jwks.has(active)) {
      throw new ConfigurationError(`activeKeyId: no key has kid "${String(active)}"`);
    }
    this.activeKid = active;
    this.publicJwks = [...this.jwks.values()].filter((k) => k.kty !== "oct").map(publicPart);
  }

  /** The algorithms keys are configured for: verification accepts nothing else. */
  get algorithms(): SigningAlgorithm[] {
    return [...new Set([...this.jwks.values()].map((k) => k.alg))];
  }

  /** The signing key. */
  async active(): Promise<LoadedKey> {
    return (await this.load()).get(this.activeKid) as LoadedKey;
  }

  /** The key with this `kid`, or `undefined`. */
  async byKid(kid: string): Promise<LoadedKey | undefined> {
    return (await this.load()).get(kid);
  }

  private load(): Promise<Map<string, LoadedKey>> {
    this.loaded ??= (async () => {
      const loaded = new Map<string, LoadedKey>();
      for (const jwk of this.jwks.values()) {
        try {
          // jose returns raw bytes for `oct` keys and would re-import them on every call.
          const signing =
            jwk.kty === "oct"
              ? await crypto.subtle.importKey(
                  "raw",
                  base64url.decode(jwk.k as string) as Uint8Array<ArrayBuffer>,
                  { name: "HMAC", hash: "SHA-256" },
                  false,
                  ["sign", "verify"],
                )
              : ((await importJWK(jwk, jwk.alg)) as CryptoKey);
          const verifying =
            jwk.kty === "oct"
              ? signing
              : ((await importJWK(publicPart(jwk), jwk.alg)) as CryptoKey);
          loaded.set(jwk.kid, { kid: jwk.kid, alg: jwk.alg, signing, verifying });
        } catch (cause) {
          throw new ConfigurationError(
            `keys: key "${jwk.kid}" cannot be imported (${String(cause)})`,
          );
        }
      }
      return loaded;
    })();
    return this.loaded;
  }
}

function checkKey(key: SigningKey): void {
  if (typeof key !== "object" || key === null)
    throw new ConfigurationError("keys: each key must be a JWK object");
  if (typeof key.kid !== "string" || key.kid.length === 0) {
    throw new ConfigurationError("keys: each key needs a non-empty `kid`");
  }
  const shape = KEY_SHAPE[key.alg];
  if (!shape) {
    throw new ConfigurationError(`keys: key "${key.kid}" has unsupported alg "${String(key.alg)}"`);
  }
  if (key.kty !== shape.kty || (shape.crv && key.crv !== shape.crv)) {
    throw new ConfigurationError(
      `keys: key "${key.kid}" (${key.alg}) must be kty ${shape.kty}${shape.crv ? ` crv ${shape.crv}` : ""}`,
    );
  }
  const secret = key[shape.secret];
  if (typeof secret !== "string" || secret.length === 0) {
    throw new ConfigurationError(
      `keys: key "${key.kid}" must be a private key (no "${shape.secret}")`,
    );
  }
  // RFC 7518 §3.2: an HS256 key must be at least as long as the hash output (256 bits).
  if (key.alg === "HS256" && secret.length < 43) {
    throw new ConfigurationError(`keys: HS256 key "${key.kid}" must have at least 256 bits`);
  }
}

function publicPart(jwk: SigningKey): JWK {
  const pub: JWK = {};
  for (const [name, value] of Object.entries(jwk)) {
    if (!PRIVATE_MEMBERS.has(name) && name !== "key_ops")
      (pub as Record<string, unknown>)[name] = value;
  }
  pub.use = "sig";
  return pub;
}
