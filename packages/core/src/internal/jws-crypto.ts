import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { base64url, type CryptoKey, importJWK, type JWK } from "jose";
import type { SigningKey } from "../types.js";
import { bytesEqual, transientUtf8, utf8 } from "./bytes.js";
import { inlineOrPool } from "./inline-or-pool.js";

type Bytes = Uint8Array<ArrayBuffer>;

/**
 * Signs and checks JWS signing inputs (`header.payload`, as text) under one key; either may
 * answer synchronously. Each backend encodes the input as suits it: the synchronous ones into
 * a reused buffer, Web Crypto into bytes of its own.
 */
export interface SignatureOps {
  sign(input: string): Uint8Array | Promise<Uint8Array>;
  verify(input: string, signature: Bytes): boolean | Promise<boolean>;
  /**
   * Which implementation each operation runs on; for `scheduled` ones, also which carries the
   * pooled calls: Node's callback form (`node`) or Web Crypto (`portable`).
   */
  backend: { sign: Backend; verify: Backend; pool?: "node" | "portable" };
}

/** Signature operations answering with `S` and `V`. */
interface InlineOps<S, V> {
  sign(input: string): S;
  verify(input: string, signature: Bytes): V;
}

/**
 * `node`: Node's synchronous one-shot calls (Node, Bun, Deno). `portable`: Web Crypto, and
 * `@noble/hashes` for HMAC, which every runtime has. `scheduled`: both, chosen per call by
 * {@link inlineOrPool} — Node's call inline while nothing else is waiting, Web Crypto's thread
 * pool when calls overlap.
 */
export type Backend = "node" | "portable" | "scheduled";

let portableOnly = false;

/**
 * Makes keys loaded from now on use only the portable backend, as on runtimes without Node's
 * crypto, so tests prove that path on Node too.
 */
export function usePortableCrypto(portable: boolean): void {
  portableOnly = portable;
}

/**
 * The signature operations for a configured key: the portable ones, or, where the runtime
 * offers Node's crypto, those. An HMAC is a few microseconds: always computed inline. Signatures
 * and checks with asymmetric keys (20–350 µs) are scheduled: inline, a thread-pool round trip
 * costs more than it saves; with calls overlapping, the pool spreads them over the cores. On the
 * pool, Node's callback form where it works (it dispatches in about half the main-thread time of
 * Web Crypto, which checks and copies its arguments first), else Web Crypto.
 */
export async function signatureOps(jwk: SigningKey, publicJwk: JWK): Promise<SignatureOps> {
  const portable = await portableOps(jwk, publicJwk);
  const native = nodeOps(jwk, publicJwk);
  if (!native || !(await agree(native, portable))) return portable;
  if (jwk.alg === "HS256" || !native.pooled) return native;
  const viaNode = callbacksUseThreads() && (await agree(native.pooled, portable));
  // Web Crypto answers asymmetric operations with promises, as the callback form does here.
  const pooled = viaNode
    ? native.pooled
    : (portable as InlineOps<Promise<Uint8Array>, Promise<boolean>>);
  return {
    sign: inlineOrPool(native.sign, pooled.sign),
    verify: inlineOrPool(native.verify, pooled.verify),
    backend: { sign: "scheduled", verify: "scheduled", pool: viaNode ? "node" : "portable" },
  };
}

const SUBTLE_PARAMS = {
  EdDSA: { name: "Ed25519" },
  ES256: { name: "ECDSA", hash: "SHA-256" },
  RS256: { name: "RSASSA-PKCS1-v1_5" },
} as const;

async function portableOps(jwk: SigningKey, publicJwk: JWK): Promise<SignatureOps> {
  const backend = { sign: "portable", verify: "portable" } as const;
  if (jwk.alg === "HS256") {
    // The key schedule (both padded key blocks) is hashed once; each MAC clones that state.
    const keyed = hmac.create(sha256, base64url.decode(jwk.k as string));
    return macOps((input) => keyed.clone().update(input).digest(), backend);
  }
  const params = SUBTLE_PARAMS[jwk.alg];
  const signing = (await importJWK(jwk, jwk.alg)) as CryptoKey;
  const verifying = (await importJWK(publicJwk, jwk.alg)) as CryptoKey;
  return {
    sign: async (input) =>
      new Uint8Array(await crypto.subtle.sign(params, signing, utf8.encode(input))),
    verify: (input, signature) =>
      crypto.subtle.verify(params, verifying, signature, utf8.encode(input)),
    backend,
  };
}

/** HMAC verification is recomputation, compared in constant time. */
function macOps(
  mac: (input: Uint8Array) => Uint8Array,
  backend: SignatureOps["backend"],
): SignatureOps & InlineOps<Uint8Array, boolean> {
  return {
    sign: (input) => mac(transientUtf8(input)),
    verify: (input, signature) => bytesEqual(mac(transientUtf8(input)), signature),
    backend,
  };
}

/** The part of `node:crypto` used here, typed locally so core needs no Node types. */
interface NodeCrypto {
  createSecretKey(key: Uint8Array): object;
  createPrivateKey(options: { key: JWK; format: "jwk" }): object;
  createPublicKey(options: { key: JWK; format: "jwk" }): object;
  createHmac(
    algorithm: "sha256",
    key: object,
  ): { update(data: Uint8Array): { digest(): Uint8Array } };
  sign(algorithm: string | null, data: Uint8Array, key: object): Uint8Array;
  /** The callback form: runs on libuv's thread pool. */
  sign(
    algorithm: string | null,
    data: Uint8Array,
    key: object,
    callback: (error: Error | null, signature: Uint8Array) => void,
  ): unknown;
  verify(algorithm: string | null, data: Uint8Array, key: object, signature: Uint8Array): boolean;
  verify(
    algorithm: string | null,
    data: Uint8Array,
    key: object,
    signature: Uint8Array,
    callback: (error: Error | null, valid: boolean) => void,
  ): unknown;
  /** One-shot digest: Node ≥ 20.12 and 21.7, not every compatibility layer. */
  hash?(algorithm: "sha256", data: Uint8Array, outputEncoding: "buffer"): Uint8Array;
}

/**
 * Node's crypto, where the runtime exposes it through `process.getBuiltinModule` (Node ≥ 20.16,
 * Bun, Deno, workerd with nodejs_compat). A property lookup at run time, not an import, so core
 * still loads on runtimes without it. `undefined` after `usePortableCrypto(true)`.
 */
export function nodeCrypto(): NodeCrypto | undefined {
  if (portableOnly) return undefined;
  const runtime = globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } };
  return runtime.process?.getBuiltinModule?.("node:crypto") as NodeCrypto | undefined;
}

/** Node's synchronous calls, and for asymmetric keys their callback (thread-pool) form. */
type NodeOps = SignatureOps &
  InlineOps<Uint8Array, boolean> & { pooled?: InlineOps<Promise<Uint8Array>, Promise<boolean>> };

function nodeOps(jwk: SigningKey, publicJwk: JWK): NodeOps | undefined {
  const node = nodeCrypto();
  if (!node) return undefined;
  const backend = { sign: "node", verify: "node" } as const;
  try {
    if (jwk.alg === "HS256") {
      // A KeyObject made once: handing createHmac raw bytes would copy the key on every call.
      const key = node.createSecretKey(base64url.decode(jwk.k as string));
      return macOps((input) => node.createHmac("sha256", key).update(input).digest(), backend);
    }
    const digest = jwk.alg === "EdDSA" ? null : "sha256";
    // JWS ECDSA signatures are r ‖ s (RFC 7518 §3.4), not Node's default DER.
    const withEncoding = (key: object) =>
      jwk.alg === "ES256" ? { key, dsaEncoding: "ieee-p1363" } : key;
    // From the JWK, not KeyObject.from(CryptoKey): runtimes deprecate that for unextractable keys.
    const signing = withEncoding(node.createPrivateKey({ key: jwk, format: "jwk" }));
    const verifying = withEncoding(node.createPublicKey({ key: publicJwk, format: "jwk" }));
    return {
      sign: (input) => node.sign(digest, transientUtf8(input), signing),
      verify: (input, signature) => node.verify(digest, transientUtf8(input), verifying, signature),
      backend,
      pooled: {
        // Own copies of the bytes: the call returns before the pool reads them, and not every
        // runtime copies them first as Node does.
        sign: (input) =>
          viaCallback((done) => node.sign(digest, utf8.encode(input), signing, done)),
        verify: (input, signature) =>
          viaCallback((done) =>
            node.verify(digest, utf8.encode(input), verifying, signature.slice(), done),
          ),
      },
    };
  } catch {
    return undefined;
  }
}

/**
 * Whether the callback form of `sign` and `verify` computes on other threads. Node and Bun run
 * it on their thread pools; Deno's compatibility layer computes it on the calling thread before
 * it calls back, where Web Crypto would have used other threads.
 */
function callbacksUseThreads(): boolean {
  return (globalThis as { Deno?: unknown }).Deno === undefined;
}

/**
 * A Node callback-style call as a promise. A runtime that ignores the callback and answers
 * synchronously instead fails here, so the probe in `signatureOps` turns that form down.
 */
function viaCallback<T>(call: (done: (error: Error | null, value: T) => void) => unknown) {
  return new Promise<T>((resolve, reject) => {
    const returned = call((error, value) => (error ? reject(error) : resolve(value)));
    if (returned !== undefined) reject(new TypeError("the callback form is not supported"));
  });
}

const PROBE = "tokens/jws/backend-probe";
/** How long the probe waits for a backend that answers through callbacks. */
const PROBE_TIMEOUT_MS = 2_000;

/**
 * Whether Node's operations agree with the portable ones on a probe, checked once per key:
 * Node-compatibility layers implement only parts of `node:crypto` (workerd, for one, rejects
 * ECDSA options), and a backend that throws or disagrees must not be used.
 */
async function agree(
  native: Pick<SignatureOps, "sign" | "verify">,
  portable: SignatureOps,
): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  // A callback that never comes must not hold key loading up forever.
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([agreeOnProbe(native, portable), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function agreeOnProbe(
  native: Pick<SignatureOps, "sign" | "verify">,
  portable: SignatureOps,
): Promise<boolean> {
  try {
    const ours = new Uint8Array(await native.sign(PROBE));
    const theirs = new Uint8Array(await portable.sign(PROBE));
    const corrupted = theirs.slice();
    corrupted[corrupted.length - 1] = (corrupted[corrupted.length - 1] as number) ^ 1;
    return (
      (await portable.verify(PROBE, ours)) &&
      (await native.verify(PROBE, theirs)) &&
      !(await native.verify(PROBE, corrupted))
    );
  } catch {
    return false;
  }
}
