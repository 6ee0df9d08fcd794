import { chmod, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { RefreshTokenStorage } from "@tokens/client";

/**
 * Keeps the refresh token in a file only its owner can read (mode 0600), standing in for the
 * OS keychain a desktop app would use (macOS Keychain, libsecret, Windows Credential Manager).
 * Writes go to a temporary file renamed over the old one, so a crash never leaves half a token.
 *
 * @example
 * ```ts
 * const client = createTokenClient({
 *   baseUrl: "https://auth.example.com",
 *   transport: "body",
 *   storage: fileStorage(join(homedir(), ".config", "my-cli", "refresh-token")),
 * });
 * ```
 */
export function fileStorage(path: string): RefreshTokenStorage {
  return {
    async get() {
      try {
        return (await readFile(path, "utf8")).trim() || null;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw error;
      }
    },
    async set(token: string) {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      const temporary = `${path}.${process.pid}.tmp`;
      await writeFile(temporary, token, { mode: 0o600 });
      // The umask cannot widen 0600, but a pre-existing file keeps its mode: set it explicitly.
      await chmod(temporary, 0o600);
      await rename(temporary, path);
    },
    async clear() {
      await rm(path, { force: true });
    },
  };
}
