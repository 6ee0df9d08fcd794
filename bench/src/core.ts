import { createTokens, type DpopRequest, generateSigningKey, type Tokens } from "@tokens/core";
import { memoryStore } from "@tokens/memory";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from "jose";
import type { BenchContext, Section } from "./lib/context.js";
import { compare, type WorkerFactory } from "./lib/measure.js";
import { createMinimal, type Minimal } from "./servers/minimal-logic.js";

const SECTION = "core";
const TOKEN_URL = "https://auth.example.com/auth/token";

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

/** A client's ES256 DPoP key, signing one fresh proof per call (as a client does per request). */
async function dpopSigner(): Promise<() => Promise<DpopRequest>> {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const jwk = await exportJWK(publicKey);
  const prefix = `${await calculateJwkThumbprint(jwk)}-`;
  let n = 0;
  return async () => ({
    proof: await new SignJWT({ htm: "POST", htu: TOKEN_URL, jti: prefix + n++ })
      .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk })
      .setIssuedAt()
      .sign(privateKey),
    method: "POST",
    url: TOKEN_URL,
  });
}

/** {@link coreChain} on a session bound to the worker's DPoP key: every refresh carries a proof. */
function dpopChain(tokens: Tokens): WorkerFactory {
  return async (worker) => {
    const proof = await dpopSigner();
    let token = (await tokens.issue({ subject: `user-${worker}`, dpop: await proof() }))
      .refresh_token;
    return async () => {
      token = (await tokens.refresh(token, { dpop: await proof() })).refresh_token;
    };
  };
}

/** The client's share of {@link dpopChain}: signing the proof alone. */
function proofSigning(): WorkerFactory {
  return async () => await dpopSigner();
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
      const bound = await compare(
        { dpop: dpopChain(tokens), bearer: coreChain(tokens), proof: proofSigning() },
        { concurrency, runs: ctx.runs, durationMs: ctx.durationMs },
      );
      ctx.add({
        section: SECTION,
        measure: "refresh with DPoP (ES256 proof signed in the loop): core + memoryStore",
        concurrency,
        unit: "ops/s",
        value: bound.dpop,
        baseline: { name: "the same refresh without DPoP", value: bound.bearer },
      });
      ctx.add({
        section: SECTION,
        measure: "DPoP proof signing alone (the client's share of the row above)",
        concurrency,
        unit: "ops/s",
        value: bound.proof,
      });
    }
    ctx.note(
      SECTION,
      "The baseline is the least a rotating endpoint can do in memory (bench/src/servers/minimal-logic.ts): a SHA-256 lookup in a Map, delete + insert, one EdDSA access token through jose. Core adds reuse detection, the grace window, expiry checks, sealing the successor and copying records in the memory store.",
    );
    ctx.note(
      SECTION,
      "DPoP rows: each worker's session is bound to its own ES256 key (jose, Web Crypto); every refresh signs a fresh proof inside the timed loop, as a client would, and core verifies it (jose jwtVerify with the embedded JWK, RFC 7638 thumbprint, replay cache). The proof-signing row measures the signing alone, in the same runs, so the server's share can be read off. The rate without DPoP is measured in the same runs, interleaved.",
    );
  },
};
