import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  base64urlDecode,
  base64urlEncode,
  base64urlText,
  bytesEqual,
  randomId,
  transientUtf8,
} from "../src/internal/bytes.js";

const nodeBase64url = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");

describe("base64url", () => {
  it("encodes as Node does and decodes back, at every length", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20_000 }), (bytes) => {
        const text = base64urlEncode(bytes);
        expect(text).toBe(nodeBase64url(bytes));
        expect(base64urlDecode(text)).toEqual(bytes);
      }),
      { numRuns: 300 },
    );
  });

  it("decodes UTF-8 text, refusing invalid sequences", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 6000 }), (text) => {
        expect(base64urlText(nodeBase64url(Buffer.from(text)))).toBe(text);
      }),
    );
    expect(base64urlText(nodeBase64url(new Uint8Array([0x7b, 0xc3, 0x28])))).toBeUndefined();
  });

  it.each([
    ["padding", "AA=="],
    ["padding mid-way", "AA==AAAA"],
    ["standard alphabet", "+/+/"],
    ["whitespace", "AAAA AAAA"],
    ["line break", "AAAA\nAAAA"],
    ["one char too many", "AAAAA"],
    ["a character that only masks to the alphabet", "AAA\u0141"],
    ["non-ASCII", "AAAé"],
    ["unused bits set (2 chars)", "AB"],
    ["unused bits set (3 chars)", "AAB"],
  ])("refuses %s", (_, text) => {
    expect(base64urlDecode(text)).toBeUndefined();
    expect(base64urlText(text)).toBeUndefined();
  });

  it("accepts the empty string", () => {
    expect(base64urlDecode("")).toEqual(new Uint8Array());
    expect(base64urlText("")).toBe("");
  });
});

describe("byte helpers", () => {
  it("makes 128-bit ids that never repeat, across refills of the pool", () => {
    // 256 ids per 4 KiB pool: this crosses several refills.
    const ids = Array.from({ length: 2000 }, randomId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it("compares bytes by content and length", () => {
    expect(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 3]))).toBe(false);
  });

  it("encodes UTF-8 of any size, reusing a buffer only when the text fits", () => {
    for (const text of ["", "ascii", "é🙂", "x".repeat(40_000)]) {
      expect(Buffer.from(transientUtf8(text)).toString()).toBe(text);
    }
  });
});
