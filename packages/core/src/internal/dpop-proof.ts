import {
  calculateJwkThumbprint,
  EmbeddedJWK,
  type FlattenedJWSInput,
  type JWK,
  type JWSHeaderParameters,
  jwtVerify,
} from "jose";
import { acceptsDpop } from "../accepts-dpop.js";
import {
  InvalidDpopProofError,
  InvalidRequestError,
  TokensError,
  UseDpopNonceError,
} from "../errors.js";
import type { DpopRequest, ResolvedConfig } from "../types.js";
import { base64urlEncode, timingSafeEqual, transientUtf8, utf8 } from "./bytes.js";
import { type HmacKey, hmacSha256 } from "./hmac.js";
import { PRIVATE_MEMBERS } from "./key-ring.js";
import { ReplayCache } from "./replay-cache.js";
import { sha256 } from "./sha256.js";

const MAX_PROOF_LENGTH = 8192;
// Clients sign every proof with one key: importing it (and hashing its thumbprint) once per key
// rather than per proof halves the cost of a check. Bounded like the replay cache.
const KEY_CACHE_SIZE = 1024;
const MAX_JTI_LENGTH = 256;
const NONCE_LABEL = utf8.encode("tokens/dpop/nonce/v1\0");
const NONCE_BYTES = 16;

/**
 * Checks DPoP proofs (RFC 9449 §4.3) and makes the server's nonces. One per tokens instance: the
 * replay cache is per instance (see {@link ReplayCache} for its bound).
 */
export class DpopVerifier {
  /**
   * Whether any client may use DPoP. When none may, refresh does not look at proofs unless the
   * session turns out to be bound (by an earlier configuration).
   */
  readonly inUse: boolean;
  private readonly replays: ReplayCache;
  private readonly nonces = new Map<number, string>();
  /** Embedded keys already imported, by `alg` and `jwk` header, with their thumbprints. */
  private readonly keys = new Map<string, EmbeddedKey>();

  constructor(
    private readonly config: ResolvedConfig,
    private readonly nonceKey: HmacKey,
    private readonly now: () => number,
  ) {
    this.replays = new ReplayCache(config.dpop.replayCacheSize);
    this.inUse = acceptsDpop(config);
  }

  /** The current nonce: an HMAC of the current time slot, the same on every instance. */
  nonce(): string {
    return this.nonceOf(this.slot(this.now()));
  }

  /**
   * Verifies the proof of `request` and resolves the RFC 7638 thumbprint of its key. With
   * `accessToken`, the proof must carry its hash (`ath`): a request to a resource. Throws
   * {@link InvalidDpopProofError} (`dpop_invalid`, `dpop_replayed`), {@link UseDpopNonceError}
   * when a nonce is demanded, {@link InvalidRequestError} when `request` itself is unusable.
   */
  async verify(request: DpopRequest, accessToken?: string): Promise<string> {
    const target = requestTarget(request);
    const { proof } = request;
    if (typeof proof !== "string" || proof.length === 0 || proof.length > MAX_PROOF_LENGTH) {
      throw invalid("the DPoP proof must be one compact JWT");
    }
    const now = this.now();
    const { dpop, clockTolerance } = this.config;
    let verified: Awaited<ReturnType<typeof jwtVerify>>;
    let embedded: EmbeddedKey | undefined;
    const keyOf = async (header: JWSHeaderParameters, token: FlattenedJWSInput) => {
      embedded = await this.embeddedKey(header, token);
      return embedded.key;
    };
    try {
      verified = await jwtVerify(proof, keyOf, {
        typ: "dpop+jwt",
        algorithms: dpop.algorithms,
        currentDate: new Date(now),
        clockTolerance,
      });
    } catch (error) {
      if (error instanceof TokensError) throw error;
      // jose's message names the failed check (typ, alg, jwk, signature); never the proof.
      throw invalid(`DPoP proof refused: ${error instanceof Error ? error.message : "invalid"}`);
    }
    const { payload } = verified;
    const { jti, htm, htu, iat, ath, nonce } = payload as Record<string, unknown>;
    if (typeof jti !== "string" || jti.length === 0 || jti.length > MAX_JTI_LENGTH) {
      throw invalid(`DPoP proof jti must be a string of 1 to ${MAX_JTI_LENGTH} characters`);
    }
    if (htm !== request.method) throw invalid("DPoP proof htm does not match the request method");
    if (typeof htu !== "string" || comparableUrl(htu) !== target) {
      throw invalid("DPoP proof htu does not match the request URL");
    }
    const nowSeconds = now / 1000;
    if (
      typeof iat !== "number" ||
      !Number.isFinite(iat) ||
      iat > nowSeconds + clockTolerance ||
      iat < nowSeconds - dpop.proofMaxAge - clockTolerance
    ) {
      throw invalid("DPoP proof iat is outside the accepted window");
    }
    if (accessToken !== undefined) {
      const expected = base64urlEncode(sha256(transientUtf8(accessToken)));
      if (typeof ath !== "string" || !timingSafeEqual(ath, expected)) {
        throw invalid("DPoP proof ath does not match the access token");
      }
    }
    if (dpop.requireNonce && !this.isLiveNonce(nonce, now)) {
      const current = this.nonceOf(this.slot(now));
      throw new UseDpopNonceError(current, "the DPoP proof must carry the server's nonce");
    }
    const { jkt } = embedded as EmbeddedKey;
    // Remembered until the proof would be refused for its iat anyway.
    const expiresAt = (iat + dpop.proofMaxAge + clockTolerance) * 1000;
    if (!this.replays.use(`${jkt}.${jti}`, expiresAt, now)) {
      throw new InvalidDpopProofError("dpop_replayed", "the DPoP proof was already used");
    }
    return jkt;
  }

  /**
   * jose's EmbeddedJWK and the key's RFC 7638 thumbprint, from the cache when this `jwk` header
   * came with this `alg` before. A `jwk` with any private member is refused outright: a proof
   * carries only the public key (RFC 9449 §4.2), and a symmetric `k` must never become the
   * verifying key.
   */
  private async embeddedKey(
    header: JWSHeaderParameters,
    token: FlattenedJWSInput,
  ): Promise<EmbeddedKey> {
    const { jwk } = header;
    if (typeof jwk === "object" && jwk !== null) {
      for (const member of Object.keys(jwk)) {
        if (PRIVATE_MEMBERS.has(member)) throw invalid("DPoP proof jwk must be a public key");
      }
    }
    const id = `${String(header.alg)}.${JSON.stringify(jwk)}`;
    let entry = this.keys.get(id);
    if (entry === undefined) {
      const key = await EmbeddedJWK(header, token);
      entry = { key, jkt: await calculateJwkThumbprint(jwk as JWK, "sha256") };
      if (this.keys.size >= KEY_CACHE_SIZE) {
        this.keys.delete(this.keys.keys().next().value as string);
      }
      this.keys.set(id, entry);
    }
    return entry;
  }

  private slot(now: number): number {
    return Math.floor(now / (this.config.dpop.nonceLifetime * 1000));
  }

  /** The current or the previous slot's nonce: one issued just before a slot ends still works. */
  private isLiveNonce(nonce: unknown, now: number): boolean {
    if (typeof nonce !== "string") return false;
    const slot = this.slot(now);
    // Both compared, in constant time, whichever matches.
    const current = timingSafeEqual(nonce, this.nonceOf(slot));
    const previous = timingSafeEqual(nonce, this.nonceOf(slot - 1));
    return current || previous;
  }

  private nonceOf(slot: number): string {
    let nonce = this.nonces.get(slot);
    if (nonce === undefined) {
      const message = new Uint8Array(8);
      new DataView(message.buffer).setFloat64(0, slot);
      nonce = base64urlEncode(
        hmacSha256(this.nonceKey, NONCE_LABEL, message).subarray(0, NONCE_BYTES),
      );
      // Only the slots in use are kept: the current one and its predecessor (and a next one).
      if (this.nonces.size >= 3) this.nonces.delete(this.nonces.keys().next().value as number);
      this.nonces.set(slot, nonce);
    }
    return nonce;
  }
}

/** An imported proof key and its thumbprint. */
interface EmbeddedKey {
  key: CryptoKey;
  jkt: string;
}

function invalid(message: string): InvalidDpopProofError {
  return new InvalidDpopProofError("dpop_invalid", message);
}

/** The request's URL as `htu` is compared: scheme, host and path (RFC 9449 §4.3). */
function requestTarget(request: DpopRequest): string {
  if (typeof request !== "object" || request === null || typeof request.method !== "string") {
    throw new InvalidRequestError("malformed", "dpop must be { proof, method, url }");
  }
  const target = comparableUrl(request.url);
  if (target === undefined) {
    throw new InvalidRequestError("malformed", "dpop.url must be an absolute http(s) URL");
  }
  return target;
}

/**
 * An http(s) URL without query and fragment, normalised as the URL parser does (scheme and host
 * case, default port, dot segments, percent-encoding), or `undefined` for anything else.
 */
function comparableUrl(url: unknown): string | undefined {
  if (typeof url !== "string") return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return undefined;
  return parsed.origin + parsed.pathname;
}
