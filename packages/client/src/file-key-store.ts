import { link, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { base64url } from "./internal/base64url.js";
import { DPOP_KEY_ALGORITHM } from "./internal/dpop-key.js";
import type { DpopKeyStore } from "./types.js";

/**
 * A {@link DpopKeyStore} in a file, for Node (CLIs, servers, scripts): the key pair survives
 * restarts, so a DPoP-bound session does too. The private key is written as a JWK, readable by
 * the file's owner only (mode 0600, in a directory created 0700 if missing).
 *
 * Node cannot keep a non-extractable key across restarts (it has no key storage like a
 * browser's IndexedDB or a platform keychain): the key is generated extractable, written out,
 * and imported back non-extractable, so code in the process can sign with it but not export
 * it. Whoever can read the file can copy the key: protect it like the refresh token.
 *
 * Processes sharing the path share the key; the first to save wins (the file is linked into
 * place only if absent).
 *
 * @example
 * ```ts
 * import { createTokenClient } from "@tokens/client";
 * import { fileKeyStore } from "@tokens/client/node";
 *
 * const client = createTokenClient({
 *   baseUrl: "https://api.example.com",
 *   transport: "body",
 *   storage: fileStorage("~/.config/my-cli/refresh-token"),
 *   dpop: { keys: fileKeyStore(`${process.env.HOME}/.config/my-cli/dpop-key.json`) },
 * });
 * ```
 */
export function fileKeyStore(path: string): DpopKeyStore {
  return {
    extractable: true,
    async load() {
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw error;
      }
      const { kty, crv, x, y, d } = JSON.parse(text) as JsonWebKey;
      if (kty !== "EC" || crv !== "P-256" || !x || !y || !d) {
        throw new Error(`${path} holds no ES256 (EC P-256) private key`);
      }
      const [privateKey, publicKey] = await Promise.all([
        crypto.subtle.importKey("jwk", { kty, crv, x, y, d }, DPOP_KEY_ALGORITHM, false, ["sign"]),
        crypto.subtle.importKey("jwk", { kty, crv, x, y }, DPOP_KEY_ALGORITHM, true, ["verify"]),
      ]);
      return { privateKey, publicKey };
    },
    async save(pair) {
      const { kty, crv, x, y, d } = await crypto.subtle.exportKey("jwk", pair.privateKey);
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      // Written whole under a private name, then linked into place: a reader never sees half a
      // file, and `link` refuses an existing file, so a concurrent first save wins.
      const temporary = `${path}.${base64url(crypto.getRandomValues(new Uint8Array(6)))}.tmp`;
      await writeFile(temporary, JSON.stringify({ kty, crv, x, y, d }), {
        mode: 0o600,
        flag: "wx",
      });
      try {
        await link(temporary, path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      } finally {
        await unlink(temporary).catch(() => undefined);
      }
    },
  };
}
