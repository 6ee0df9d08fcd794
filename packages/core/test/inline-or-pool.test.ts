import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { generateSigningKey, type SigningKey } from "../src/index.js";
import { pooledOperations } from "../src/internal/inline-or-pool.js";
import { type SignatureOps, signatureOps } from "../src/internal/jws-crypto.js";

const INPUT = "header.payload";

/** A call's result, and whether it answered synchronously (inline) or not (the pool). */
type Ran<T> = { inline: boolean; result: Promise<T> };
function ran<T>(result: T | Promise<T>): Ran<T> {
  return { inline: !(result instanceof Promise), result: Promise.resolve(result) };
}

/** Lets the event loop finish its turn (check phase included) and the pool drain. */
async function quiet() {
  while (pooledOperations() > 0) await new Promise((resolve) => setTimeout(resolve, 1));
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
}

describe("signature operations: inline or on the thread pool", () => {
  let ops: SignatureOps;
  let signature: Uint8Array<ArrayBuffer>;

  beforeAll(async () => {
    const jwk = await generateSigningKey("EdDSA");
    const { d: _d, ...publicJwk } = jwk as SigningKey & { d: string };
    ops = await signatureOps(jwk, publicJwk);
    expect(ops.backend).toEqual({ sign: "scheduled", verify: "scheduled", pool: "node" });
    signature = new Uint8Array(await ops.sign(INPUT));
  });
  beforeEach(quiet);

  it("runs a caller that awaits each call before the next inline, every time", async () => {
    for (let i = 0; i < 20; i++) {
      const call = ran(ops.verify(INPUT, signature));
      expect(call.inline).toBe(true);
      expect(await call.result).toBe(true);
    }
  });

  it("sends calls started together to the pool after the first, with the same answers", async () => {
    const calls = Array.from({ length: 8 }, (_, i) =>
      ran(ops.verify(i % 2 ? INPUT : "header.payloaD", signature)),
    );
    expect(calls.map((c) => c.inline)).toEqual([true, ...Array(7).fill(false)]);
    expect(await Promise.all(calls.map((c) => c.result))).toEqual(
      Array.from({ length: 8 }, (_, i) => i % 2 === 1),
    );
  });

  it("keeps using the pool while a pooled call is in flight, then goes inline again", async () => {
    ran(ops.sign(INPUT));
    const pooled = ran(ops.sign(INPUT));
    expect(pooled.inline).toBe(false);
    await Promise.resolve();
    const meanwhile = ran(ops.verify(INPUT, signature));
    expect(meanwhile.inline).toBe(false);
    // A signature made on the pool checks out inline, and the other way round.
    const pooledSignature = new Uint8Array(await pooled.result);
    expect(await meanwhile.result).toBe(true);
    await quiet();
    const after = ran(ops.verify(INPUT, pooledSignature));
    expect(after.inline).toBe(true);
    expect(await after.result).toBe(true);
  });

  it("keeps one event's calls inline when each awaits the one before", async () => {
    const seen = await new Promise<Ran<boolean>[]>((resolve) => {
      // An event handler that checks a token, then signs, then checks again.
      setImmediate(async () => {
        const first = ran(ops.verify(INPUT, signature));
        await first.result;
        const second = ran(ops.sign(INPUT));
        await second.result;
        const third = ran(ops.verify(INPUT, signature));
        resolve([first, third]);
      });
    });
    expect(seen.map((s) => s.inline)).toEqual([true, true]);
  });

  it("sends the second of two events handled in one turn of the event loop to the pool", async () => {
    const seen: Ran<boolean>[] = [];
    await new Promise<void>((resolve) => {
      // Both run in the same check phase, each followed by its own microtasks and ticks.
      setImmediate(() => seen.push(ran(ops.verify(INPUT, signature))));
      setImmediate(() => {
        seen.push(ran(ops.verify(INPUT, signature)));
        resolve();
      });
    });
    expect(seen.map((s) => s.inline)).toEqual([true, false]);
    expect(await Promise.all(seen.map((s) => s.result))).toEqual([true, true]);
    await quiet();
    expect(ran(ops.verify(INPUT, signature)).inline).toBe(true);
  });

  it("answers a signature the backend cannot parse as invalid on both paths", async () => {
    const garbage = new Uint8Array(3);
    const calls = [ran(ops.verify(INPUT, garbage)), ran(ops.verify(INPUT, garbage))];
    expect(calls.map((c) => c.inline)).toEqual([true, false]);
    for (const call of calls) expect(await call.result.catch(() => false)).toBe(false);
  });
});
