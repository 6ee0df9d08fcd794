import { createTokens, generateSigningKey, type Tokens } from "@tokens/core";
import { memoryStore } from "@tokens/memory";
import type { BenchContext, Section } from "./lib/context.js";
import { compare, type WorkerFactory } from "./lib/measure.js";
import { createMinimal, type Minimal } from "./servers/minimal-logic.js";

const SECTION = "core";

async function newTokens(): Promise<Tokens> {
  return createTokens({
    issuer: "https://auth.example.com",
    audience: "https://api.example.com",
    keys: [await generateSigningKey("EdDSA", { kid: "bench" })],
    store: memoryStore(),
  });
}

/** Each worker refreshes its own session, always with the token it got last. */
export function coreChain(tokens: Tokens): WorkerFactory {
  return async (worker) => {
    let token = (await tokens.issue({ subject: `user-${worker}` })).refresh_token;
    return async () => {
      token = (await tokens.refresh(token)).refresh_token;
    };
  };
}

function minimalChain(minimal: Minimal): WorkerFactory {
  return async (worker) => {
    let token = (await minimal.issue(`user-${worker}`)).refresh_token;
    return async () => {
      const next = await minimal.refresh(token);
      if (!next) throw new Error("minimal refresh lost its chain");
      token = next.refresh_token;
    };
  };
}

export const coreSection: Section = {
  id: "core",
  title: "Core: issue and refresh on the memory store",
  async run(ctx: BenchContext) {
    for (const concurrency of [1, 32]) {
      ctx.log(`core: concurrency ${concurrency}`);
      const tokens = await newTokens();
      const minimal = await createMinimal();
      const issued = await compare(
        {
          core: () => () => tokens.issue({ subject: "user-1" }),
          minimal: () => () => minimal.issue("user-1"),
        },
        { concurrency, runs: ctx.runs, durationMs: ctx.durationMs },
      );
      ctx.add({
        section: SECTION,
        measure: "issue: core + memoryStore",
        concurrency,
        unit: "ops/s",
        value: issued.core,
        baseline: { name: "minimal Map + jose EdDSA", value: issued.minimal },
      });
      const refreshed = await compare(
        { core: coreChain(tokens), minimal: minimalChain(minimal) },
        { concurrency, runs: ctx.runs, durationMs: ctx.durationMs },
      );
      ctx.add({
        section: SECTION,
        measure: "refresh: core + memoryStore",
        concurrency,
        unit: "ops/s",
        value: refreshed.core,
        baseline: { name: "minimal Map + jose EdDSA", value: refreshed.minimal },
      });
    }
    ctx.note(
      SECTION,
      "The baseline is the least a rotating endpoint can do in memory (bench/src/servers/minimal-logic.ts): a SHA-256 lookup in a Map, delete + insert, one EdDSA access token through jose. Core adds reuse detection, the grace window, expiry checks, sealing the successor and copying records in the memory store.",
    );
  },
};
