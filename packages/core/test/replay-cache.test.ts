import { describe, expect, it } from "vitest";
import { ReplayCache } from "../src/internal/replay-cache.js";

describe("ReplayCache", () => {
  it("refuses an id until it expires, then accepts it again", () => {
    const cache = new ReplayCache(10);
    expect(cache.use("a", 1000, 0)).toBe(true);
    expect(cache.use("a", 1000, 999)).toBe(false);
    expect(cache.use("a", 2000, 1000)).toBe(true);
  });

  it("never holds more than its limit, forgetting the oldest first", () => {
    const cache = new ReplayCache(3);
    for (const id of ["a", "b", "c", "d"]) expect(cache.use(id, 10_000, 0)).toBe(true);
    expect(cache.size).toBe(3);
    expect(cache.use("d", 10_000, 1)).toBe(false);
    expect(cache.use("b", 10_000, 1)).toBe(false);
    expect(cache.use("a", 10_000, 1)).toBe(true);
  });

  it("drops expired entries as time passes, so it shrinks without new limits", () => {
    const cache = new ReplayCache(100);
    for (let i = 0; i < 50; i++) cache.use(`id-${i}`, 1000 + i, 0);
    cache.use("late", 100_000, 1025);
    expect(cache.size).toBe(50 - 26 + 1);
    cache.use("later", 100_000, 2000);
    expect(cache.size).toBe(2);
  });
});
