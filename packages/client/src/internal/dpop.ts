import type { DpopKeyStore } from "../types.js";
import { base64url, base64urlJson } from "./base64url.js";
import { type DpopKey, loadOrCreateKey } from "./dpop-key.js";

/** What a proof is made for. */
export interface ProofTarget {
  method: string;
  url: URL;
  /** The access token a resource request carries: the proof then binds it (`ath`). */
  accessToken?: string;
}

/** Sends one request with the given `DPoP` header value. */
export type ProvenSend<T> = (proof: string) => Promise<T>;

/** An answer whose headers may carry a `DPoP-Nonce`. */
interface Answer {
  headers: Headers;
}

/** Proofs for one client: its key, and the nonce each server origin asked for last. */
export interface DpopSigner {
  /**
   * Send with a proof; when the answer demands a nonce (`use_dpop_nonce`) and brought a new
   * one, send once more with a proof carrying it. Never more than twice. `release` frees a
   * first answer that is not returned.
   */
  exchange<T extends Answer>(
    target: ProofTarget,
    send: ProvenSend<T>,
    demandsNonce: (answer: T) => boolean,
    release?: (answer: T) => Promise<void>,
  ): Promise<T>;
}

/** Methods `fetch` upper-cases (Fetch standard "normalize a method"); others go out as written. */
const NORMALIZED_METHODS = new Set(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"]);

export function createDpopSigner(keys: DpopKeyStore): DpopSigner {
  let key: Promise<DpopKey> | null = null;
  const nonces = new Map<string, string>();

  const currentKey = () => {
    if (!key) {
      // A failed load is not kept: the next proof tries the store again.
      key = loadOrCreateKey(keys).catch((error: unknown) => {
        key = null;
        throw error;
      });
    }
    return key;
  };

  /** A fresh proof for `target`, with the origin's nonce if it gave one. */
  async function proof({ method, url, accessToken }: ProofTarget): Promise<string> {
    const { privateKey, jwk } = await currentKey();
    const upper = method.toUpperCase();
    const claims: Record<string, string | number> = {
      jti: base64url(crypto.getRandomValues(new Uint8Array(16))),
      htm: NORMALIZED_METHODS.has(upper) ? upper : method,
      htu: `${url.origin}${url.pathname}`,
      iat: Math.floor(Date.now() / 1000),
    };
    if (accessToken !== undefined) claims.ath = await sha256(accessToken);
    const nonce = nonces.get(url.origin);
    if (nonce !== undefined) claims.nonce = nonce;
    const input = `${base64urlJson({ typ: "dpop+jwt", alg: "ES256", jwk })}.${base64urlJson(claims)}`;
    const signature = await crypto.subtle.sign(
      { name: "ECDSA", hash: "SHA-256" },
      privateKey,
      new TextEncoder().encode(input),
    );
    return `${input}.${base64url(new Uint8Array(signature))}`;
  }

  function remember(url: URL, answer: Answer): void {
    const nonce = answer.headers.get("dpop-nonce");
    if (nonce) nonces.set(url.origin, nonce);
  }

  return {
    async exchange(target, send, demandsNonce, release) {
      const used = nonces.get(target.url.origin);
      const first = await send(await proof(target));
      remember(target.url, first);
      if (!demandsNonce(first) || nonces.get(target.url.origin) === used) return first;
      await release?.(first);
      const second = await send(await proof(target));
      remember(target.url, second);
      return second;
    },
  };
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return base64url(new Uint8Array(digest));
}
