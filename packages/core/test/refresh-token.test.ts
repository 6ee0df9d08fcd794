import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { nodeCrypto, usePortableCrypto } from "../src/internal/jws-crypto.js";
import {
  formatToken,
  hashSecret,
  newSecret,
  openSealed,
  parseToken,
  sealSecret,
} from "../src/internal/refresh-token.js";

describe("refresh token format", () => {
  it("is a scannable prefix plus 256 bits of base64url", () => {
    const token = formatToken(newSecret());
    expect(token).toMatch(/^tokens_rt_[A-Za-z0-9_-]{43}$/);
    expect(parseToken(token)).toHaveLength(32);
  });

  it("never repeats", () => {
    const seen = new Set(Array.from({ length: 1000 }, () => formatToken(newSecret())));
    expect(seen.size).toBe(1000);
  });

  it.each([
    "",
    "tokens_rt_",
    "tokens_rt_short",
    `tokens_rt_${"A".repeat(42)}`,
    `tokens_rt_${"A".repeat(44)}`,
    `tokens_rt_${"+".repeat(43)}`,
    `TOKENS_RT_${"A".repeat(43)}`,
    `other_rt_${"A".repeat(44)}`,
    // 43 characters carry 258 bits: a last character with its two spare bits set is another
    // spelling of the same secret, which no issued token has.
    `tokens_rt_${"A".repeat(42)}B`,
  ])("rejects %j", (input) => {
    expect(parseToken(input)).toBeNull();
  });

  it("hashes to a value that does not contain the secret and differs from the seal pad", () => {
    const secret = newSecret();
    const token = formatToken(secret);
    const hash = hashSecret(secret);
    expect(hash).toHaveLength(43);
    expect(token).not.toContain(hash);
    expect(hash).not.toBe(sealSecret(new Uint8Array(32), secret));
  });

  it("opens a sealed successor only with the predecessor's secret", () => {
    const predecessor = newSecret();
    const successor = newSecret();
    const sealed = sealSecret(successor, predecessor);
    expect(openSealed(sealed, predecessor)).toEqual(successor);
    expect(openSealed(sealed, newSecret())).not.toEqual(successor);
    expect(openSealed("not base64url!", predecessor)).toBeNull();
    expect(openSealed("AAAA", predecessor)).toBeNull();
  });
});

describe.each(["node", "portable"] as const)("hashing and sealing on the %s backend", (backend) => {
  const digest = (label: string, secret: Uint8Array) =>
    createHash("sha256").update(`tokens/refresh-token/${label}/v1\0`).update(secret).digest();
  const onBackend = <T>(run: () => T): T => {
    usePortableCrypto(backend === "portable");
    try {
      return run();
    } finally {
      usePortableCrypto(false);
    }
  };

  it("runs on Node's one-shot hash only on the node backend", () => {
    expect(onBackend(() => typeof nodeCrypto()?.hash)).toBe(
      backend === "node" ? "function" : "undefined",
    );
  });

  it("stores SHA-256 of the hash label and the secret", () => {
    const secret = newSecret();
    expect(onBackend(() => hashSecret(secret))).toBe(digest("hash", secret).toString("base64url"));
  });

  it("seals with SHA-256 of the seal label and the predecessor, and opens on either backend", () => {
    const predecessor = newSecret();
    const successor = newSecret();
    const pad = digest("seal", predecessor);
    const sealed = onBackend(() => sealSecret(successor, predecessor));
    expect(Buffer.from(sealed, "base64url")).toEqual(
      Buffer.from(successor.map((byte, i) => byte ^ (pad[i] as number))),
    );
    expect(openSealed(sealed, predecessor)).toEqual(successor);
    expect(onBackend(() => openSealed(sealed, predecessor))).toEqual(successor);
  });
});
