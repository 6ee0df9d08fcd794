import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { generateSigningKey, type SigningKey } from "@tokens/core";
import { ConfigError } from "./config.js";

function isKeyList(value: unknown): value is SigningKey[] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every(
      (key) =>
        typeof key === "object" &&
        key !== null &&
        typeof key.kid === "string" &&
        typeof key.alg === "string",
    )
  );
}

/**
 * Loads the signing keys from `file`, creating the file with a fresh Ed25519 key the first
 * time, so access tokens stay valid across restarts. The file holds a private key: it is
 * written owner-only, and `.data/` is git-ignored. In production, load keys from your secret
 * store instead.
 *
 * @example
 * ```ts
 * const keys = await loadSigningKeys(".data/signing-keys.json");
 * ```
 */
export async function loadSigningKeys(file: string): Promise<SigningKey[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    const keys = [await generateSigningKey("EdDSA")];
    await mkdir(dirname(file), { recursive: true });
    // "wx": never overwrite a key file another process created meanwhile.
    await writeFile(file, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600, flag: "wx" });
    return keys;
  }
  let keys: unknown;
  try {
    keys = JSON.parse(text);
  } catch {
    throw new ConfigError(`${file} is not valid JSON; delete it to generate a new key`);
  }
  if (!isKeyList(keys)) throw new ConfigError(`${file} does not hold a list of signing keys`);
  return keys;
}
