import { createHash, createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { hmacKey } from "../src/internal/hmac.js";
import { nodeCrypto, usePortableCrypto } from "../src/internal/jws-crypto.js";
import {
  formatToken,
  hashSecret,
  hasValidTag,
  newSecret,
  openSealed,
  type ParsedToken,
  parseToken,
  sealSecret,
  tagKey,
} from "../src/internal/refresh-token.js";

const RAW_KEY = new Uint8Array(32).fill(7);
const KEY = hmacKey(RAW_KEY);
const SESSION_ID = "AAECAwQFBgcICQoLDA0ODw"; // bytes 0..15

describe("refresh token format", () => {
  it("is a scannable prefix plus the session id, generation, 256-bit secret and tag", () => {
    const secret = newSecret();
    const token = formatToken({ sessionId: SESSION_ID, generation: 258, secret }, KEY);
    expect(token).toMatch(/^tokens_rt_[A-Za-z0-9_-]{91}$/);
    const body = Buffer.from(token.slice("tokens_rt_".length), "base64url");
    expect([...body.subarray(0, 16)]).toEqual([...Array(16).keys()]);
    expect(body.readUInt32BE(16)).toBe(258);
    expect(new Uint8Array(body.subarray(20, 52))).toEqual(secret);
    // The tag: HMAC-SHA-256 under the key of the label and the 52 bytes before it, cut to 16.
    const tag = createHmac("sha256", RAW_KEY)
      .update("tokens/refresh-token/tag/v2\0")
      .update(body.subarray(0, 52))
      .digest()
      .subarray(0, 16);
    expect(body.subarray(52)).toEqual(tag);

    const parsed = parseToken(token);
    expect(parsed).toMatchObject({ sessionId: SESSION_ID, generation: 258, secret });
    expect(hasValidTag(parsed as ParsedToken, [KEY])).toBe(true);
  });

  it("verifies its tag under any of the keys given, and under no other", () => {
    const other = hmacKey(new Uint8Array(32).fill(9));
    const token = parseToken(
      formatToken({ sessionId: SESSION_ID, generation: 0, secret: newSecret() }, KEY),
    ) as ParsedToken;
    expect(hasValidTag(token, [other, KEY])).toBe(true);
    expect(hasValidTag(token, [other])).toBe(false);
    expect(hasValidTag(token, [])).toBe(false);
    // Any changed byte of the signed part breaks the tag: session, generation, secret.
    for (const index of [0, 17, 40]) {
      const signed = token.signed.slice();
      signed[index] = (signed[index] as number) ^ 1;
      expect(hasValidTag({ ...token, signed }, [KEY])).toBe(false);
    }
  });

  it("derives the tag key from a signing key's private part, never the same for two keys", () => {
    const a = tagKey(new Uint8Array(32).fill(1));
    expect(a.inner).toHaveLength(64);
    expect(tagKey(new Uint8Array(32).fill(1))).toEqual(a);
    expect(tagKey(new Uint8Array(32).fill(2))).not.toEqual(a);
  });

  it("never repeats", () => {
    const seen = new Set(
      Array.from({ length: 1000 }, () =>
        formatToken({ sessionId: SESSION_ID, generation: 0, secret: newSecret() }, KEY),
      ),
    );
    expect(seen.size).toBe(1000);
  });

  it.each([
    "",
    "tokens_rt_",
    "tokens_rt_short",
    `tokens_rt_${"A".repeat(43)}`,
    `tokens_rt_${"A".repeat(90)}`,
    `tokens_rt_${"A".repeat(92)}`,
    `tokens_rt_${"+".repeat(91)}`,
    `TOKENS_RT_${"A".repeat(91)}`,
    `other_rt_${"A".repeat(92)}`,
    // 91 characters carry 546 bits for 544: a last character with its two spare bits set is
    // another spelling of the same bytes, which no issued token has.
    `tokens_rt_${"A".repeat(90)}B`,
  ])("rejects %j", (input) => {
    expect(parseToken(input)).toBeNull();
  });

  it("refuses to format a session id that is not 16 bytes or a generation out of range", () => {
    const secret = newSecret();
    expect(() => formatToken({ sessionId: "short", generation: 0, secret }, KEY)).toThrow();
    expect(() => formatToken({ sessionId: SESSION_ID, generation: -1, secret }, KEY)).toThrow();
    expect(() =>
      formatToken({ sessionId: SESSION_ID, generation: 2 ** 32, secret }, KEY),
    ).toThrow();
  });

  it("hashes to a value that does not contain the secret and differs from the seal pad", () => {
    const secret = newSecret();
    const token = formatToken({ sessionId: SESSION_ID, generation: 0, secret }, KEY);
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

  it("tags with HMAC-SHA-256 of the tag label and the signed bytes on either backend", () => {
    const raw = new Uint8Array(32).fill(3);
    const token = onBackend(() =>
      formatToken(
        { sessionId: "AAECAwQFBgcICQoLDA0ODw", generation: 1, secret: newSecret() },
        hmacKey(raw),
      ),
    );
    const body = Buffer.from(token.slice("tokens_rt_".length), "base64url");
    const tag = createHmac("sha256", raw)
      .update("tokens/refresh-token/tag/v2\0")
      .update(body.subarray(0, 52))
      .digest();
    expect(body.subarray(52)).toEqual(tag.subarray(0, 16));
  });

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
