import { sha256 as portableSha256 } from "@noble/hashes/sha2.js";
import { nodeCrypto } from "./jws-crypto.js";

/**
 * SHA-256 of a short input, on the hot path of every refresh (token hash, sealing pad, binding
 * key): Node's one-shot `crypto.hash` does one in about two thirds of the time of the
 * JavaScript implementation, which stays for runtimes without it (and gives the same digest).
 */
export function sha256(input: Uint8Array): Uint8Array {
  const node = nodeCrypto();
  return node?.hash ? node.hash("sha256", input, "buffer") : portableSha256(input);
}
