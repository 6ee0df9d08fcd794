import { base64url, type JWK } from "jose";
import { ConfigurationError } from "../errors.js";
import type { SigningAlgorithm, SigningKey } from "../types.js";
import { utf8 } from "./bytes.js";
import { derivedHmacKey, type HmacKey } from "./hmac.js";
import { cachedHeaders, encodeHeader } from "./jws.js";
import { type SignatureOps, signatureOps } from "./jws-crypto.js";
import { type TagKey, tagKey } from "./refresh-token.js";

/** The key type and curve each algorithm requires: a key is only ever used under its own alg. */
const KEY_SHAPE: Record<SigningAlgorithm, { kty: string; crv?: string; secret: "d" | "k" }> = {
  EdDSA: { kty: "OKP", crv: "Ed25519", secret: "d" },
  ES256: { kty: "EC", crv: "P-256", secret: "d" },
  RS256: { kty: "RSA", secret: "d" },
  HS256: { kty: "oct", secret: "k" },
};

const NONCE_KEY_INFO = utf8.encode("tokens/dpop/nonce-key/v1");

/** The JWK members that hold private or secret key material (RFC 7517, RFC 7518 §6). */
export const PRIVATE_MEMBERS: ReadonlySet<string> = new Set([
  "d",
  "p",
  "q",
  "dp",
  "dq",
  "qi",
  "oth",
  "k",
]);

/** The private (or secret) part of a signing key, the material server-side keys derive from. */
function privatePart(key: SigningKey): Uint8Array {
  return base64url.decode(key[KEY_SHAPE[key.alg].secret] as string);
}

/** A configured key, ready to sign and verify. */
export interface LoadedKey extends SignatureOps {
  kid: string;
  alg: SigningAlgorithm;
  /** The protected header this key signs with, already base64url-encoded. */
  header: string;
}

/** The configured keys once loaded: what signing and verification look up. */
export interface LoadedKeys {
  active: LoadedKey;
  byKid: Map<string, LoadedKey>;
  /** The algorithms keys are configured for: verification accepts nothing else. */
  algorithms: ReadonlySet<string>;
  /** Header segments known valid, to the key they name (see `cachedHeaders`). */
  headers: Map<string, LoadedKey>;
}

/**
 * The configured keys, checked once at set-up and loaded once on first use (importing per call
 * would cost more than the signature itself).
 */
export class KeyRing {
  readonly activeKid: string;
  readonly publicJwks: JWK[];
  /**
   * The keys that tag refresh tokens, one per signing key, the active key's first: new tokens
   * are tagged with it, and a token tagged under any configured key verifies.
   */
  readonly tagKeys: readonly TagKey[];
  /**
   * The key DPoP nonces are made under, derived from the active signing key: instances sharing
   * the keys make and accept the same nonces, and a key rotation only costs clients a retry.
   */
  readonly nonceKey: HmacKey;
  private readonly jwks: Map<string, SigningKey>;
  private loading: Promise<LoadedKeys> | undefined;
  private loaded: LoadedKeys | undefined;

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
    const signing = this.jwks.get(active) as SigningKey;
    this.tagKeys = [signing, ...[...this.jwks.values()].filter((key) => key !== signing)].map(
      (key) => tagKey(privatePart(key)),
    );
    this.nonceKey = derivedHmacKey(privatePart(signing), NONCE_KEY_INFO);
    this.publicJwks = [...this.jwks.values()].filter((k) => k.kty !== "oct").map(publicPart);
  }

  /**
   * The loaded keys: synchronously once loaded, so the hot paths do not wait on a settled
   * promise on every call.
   */
  load(): LoadedKeys | Promise<LoadedKeys> {
    if (this.loaded) return this.loaded;
    this.loading ??= this.import();
    return this.loading;
  }

  private async import(): Promise<LoadedKeys> {
    const byKid = new Map<string, LoadedKey>();
    const headers = new Map<string, LoadedKey>();
    for (const jwk of this.jwks.values()) {
      let ops: SignatureOps;
      try {
        ops = await signatureOps(jwk, publicPart(jwk));
      } catch (cause) {
        throw new ConfigurationError(
          `keys: key "${jwk.kid}" cannot be imported (${String(cause)})`,
        );
      }
      const key: LoadedKey = {
        ...ops,
        kid: jwk.kid,
        alg: jwk.alg,
        header: encodeHeader(jwk.alg, jwk.kid),
      };
      byKid.set(key.kid, key);
      for (const segment of cachedHeaders(key.alg, key.kid)) headers.set(segment, key);
    }
    this.loaded = {
      active: byKid.get(this.activeKid) as LoadedKey,
      byKid,
      algorithms: new Set([...byKid.values()].map((k) => k.alg)),
      headers,
    };
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
  // RFC 7518 §3.3: RSA keys of 2048 bits or more. Node's crypto would sign with a smaller one.
  if (key.alg === "RS256" && modulusBits(key.n) < 2048) {
    throw new ConfigurationError(`keys: RS256 key "${key.kid}" must have at least 2048 bits`);
  }
}

/** The bit length of a JWK's base64url RSA modulus; 0 if it is not one. */
function modulusBits(n: unknown): number {
  let bytes: Uint8Array;
  try {
    bytes = base64url.decode(n as string);
  } catch {
    return 0;
  }
  const first = bytes.findIndex((byte) => byte !== 0);
  if (first < 0) return 0;
  return (bytes.length - first - 1) * 8 + (32 - Math.clz32(bytes[first] as number));
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
