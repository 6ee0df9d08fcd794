import { TokenClientError } from "../errors.js";
import type { DpopKeyStore } from "../types.js";

/** ES256: ECDSA on P-256. Web Crypto signs it straight into JWS's raw r‖s form. */
export const DPOP_KEY_ALGORITHM: EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };

/** The public half as the proof's `jwk` header carries it: the RFC 7638 members and no others. */
export interface DpopPublicJwk {
  kty: "EC";
  crv: "P-256";
  x: string;
  y: string;
}

/** The key the client signs proofs with. */
export interface DpopKey {
  privateKey: CryptoKey;
  jwk: DpopPublicJwk;
}

/** Serialises key creation across the tabs (or workers) of an origin. */
const KEY_LOCK = "tokens-dpop-key";

/** A new ES256 pair; the private key is extractable only for stores that must write it out. */
export function generateDpopKeyPair(extractable: boolean): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(DPOP_KEY_ALGORITHM, extractable, ["sign", "verify"]);
}

/**
 * The store's key, created and saved first if it has none. Under a Web Lock where there is
 * one, so tabs opening together generate one key; without, the store's first-save-wins rule
 * and the read after saving still leave every tab with the same key.
 */
export async function loadOrCreateKey(store: DpopKeyStore): Promise<DpopKey> {
  const work = async () => {
    try {
      let pair = await store.load();
      if (!pair) {
        await store.save(await generateDpopKeyPair(store.extractable === true));
        pair = await store.load();
      }
      if (!pair) throw new Error("The key store kept no key pair");
      return await dpopKey(pair);
    } catch (cause) {
      throw new TokenClientError("storage_error", "The DPoP key store failed", { cause });
    }
  };
  const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
  return locks ? locks.request(KEY_LOCK, work) : work();
}

async function dpopKey(pair: CryptoKeyPair): Promise<DpopKey> {
  const { privateKey, publicKey } = pair;
  const algorithm = privateKey?.algorithm as EcKeyAlgorithm | undefined;
  if (
    privateKey?.type !== "private" ||
    algorithm?.name !== "ECDSA" ||
    algorithm.namedCurve !== "P-256" ||
    publicKey?.type !== "public"
  ) {
    throw new Error("The stored key pair is not an ECDSA P-256 pair");
  }
  const { kty, crv, x, y } = await crypto.subtle.exportKey("jwk", publicKey);
  if (kty !== "EC" || crv !== "P-256" || !x || !y) throw new Error("Unexpected public key");
  return { privateKey, jwk: { kty, crv, x, y } };
}
