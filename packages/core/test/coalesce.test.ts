import { describe, expect, it } from "vitest";
import { coalesced } from "../src/sql/index.js";

/** A `run` that records each batch it is given and answers each item doubled. */
function recorded() {
  const batches: number[][] = [];
  const run = async (items: number[]) => {
    batches.push(items);
    return items.map((item) => item * 2);
  };
  return { batches, run };
}

describe("coalesced", () => {
  it("calls made in one turn go to one run, in order, each answered with its own result", async () => {
    const { batches, run } = recorded();
    const call = coalesced(run);
    expect(await Promise.all([1, 2, 3].map(call))).toEqual([2, 4, 6]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it("a call made in a later turn goes to a run of its own", async () => {
    const { batches, run } = recorded();
    const call = coalesced(run);
    const first = call(1);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(await Promise.all([first, call(2)])).toEqual([2, 4]);
    expect(batches).toEqual([[1], [2]]);
  });

  it("splits a turn's calls into runs of at most maxBatch", async () => {
    const { batches, run } = recorded();
    const call = coalesced(run, 2);
    expect(await Promise.all([1, 2, 3, 4, 5].map(call))).toEqual([2, 4, 6, 8, 10]);
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it("an item answered with a rejected promise fails alone; a failed run fails its whole batch", async () => {
    const call = coalesced(async (items: number[]) =>
      items.map((item) => (item === 2 ? Promise.reject(new Error("two")) : item)),
    );
    expect(await Promise.allSettled([1, 2, 3].map(call))).toMatchObject([
      { status: "fulfilled", value: 1 },
      { status: "rejected", reason: { message: "two" } },
      { status: "fulfilled", value: 3 },
    ]);

    const failing = coalesced<number, number>(() => {
      throw new Error("down");
    });
    const settled = await Promise.allSettled([1, 2].map(failing));
    expect(settled.map((result) => result.status)).toEqual(["rejected", "rejected"]);
  });
});
