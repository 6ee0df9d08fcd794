import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  type KeyObject,
  randomBytes,
  sign,
  timingSafeEqual,
  verify,
} from "node:crypto";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  createTokens,
  generateSigningKey,
  type SessionRecord,
  type SigningAlgorithm,
  type SigningKey,
  type Tokens,
} from "@tokens/core";
import { memoryStore } from "@tokens/memory";
import { base64url, type CryptoKey, importJWK } from "jose";
import type { BenchContext, Section } from "./lib/context.js";
import { compare, type Op, type WorkerFactory } from "./lib/measure.js";
import type { Stat } from "./lib/stats.js";

const SECTION = "crypto";
const ALGORITHMS: SigningAlgorithm[] = ["EdDSA", "ES256", "RS256", "HS256"];
const VERIFY_TARGET = { text: "verify ≥ 0.9× bare primitive", min: 0.9 };

/** The pieces of core that sign and mint tokens, reached without the store in the way. */
interface CoreInternals {
  signAccessToken(ctx: unknown, session: SessionRecord, nowMs: number): Promise<string>;
  createContext(config: unknown): unknown;
  newSecret(): Uint8Array;
  /** HMAC-SHA-256's padded blocks of a raw key, as core keeps its tag keys. */
  hmacKey(key: Uint8Array): object;
  formatToken(
    token: { sessionId: string; generation: number; secret: Uint8Array },
    key: object,
  ): string;
  hashSecret(secret: Uint8Array): string;
}

async function coreInternals(): Promise<CoreInternals | string> {
  try {
    const [access, context, refresh, hmac] = await Promise.all([
      import("../../packages/core/src/internal/access-token.js"),
      import("../../packages/core/src/internal/context.js"),
      import("../../packages/core/src/internal/refresh-token.js"),
      import("../../packages/core/src/internal/hmac.js"),
    ]);
    return {
      signAccessToken: access.signAccessToken as CoreInternals["signAccessToken"],
      createContext: context.createContext as CoreInternals["createContext"],
      newSecret: refresh.newSecret,
      hmacKey: hmac.hmacKey,
      formatToken: refresh.formatToken as CoreInternals["formatToken"],
      hashSecret: refresh.hashSecret,
    };
  } catch (error) {
    return (error as Error).message;
  }
}

/** The node:crypto form of each algorithm, over exactly the bytes a JWS signs. */
interface Primitive {
  signSync(data: Buffer): Buffer;
  verifySync(data: Buffer, signature: Buffer): boolean;
  /** Thread-pool form (callback API); HMAC has none, so it is the sync one. */
  signAsync(data: Buffer): Promise<Buffer>;
  verifyAsync(data: Buffer, signature: Buffer): Promise<boolean>;
}

function primitive(alg: SigningAlgorithm, jwk: SigningKey): Primitive {
  if (alg === "HS256") {
    const key = createSecretKey(Buffer.from(jwk.k as string, "base64url"));
    const mac = (data: Buffer) => createHmac("sha256", key).update(data).digest();
    const check = (data: Buffer, signature: Buffer) => {
      const expected = mac(data);
      return expected.length === signature.length && timingSafeEqual(expected, signature);
    };
    return {
      signSync: mac,
      verifySync: check,
      signAsync: async (data) => mac(data),
      verifyAsync: async (data, signature) => check(data, signature),
    };
  }
  const privateKey = createPrivateKey({ key: jwk, format: "jwk" });
  const publicKey = createPublicKey(privateKey);
  const digest = alg === "EdDSA" ? null : "sha256";
  // JWS wants ECDSA signatures as r ‖ s, not DER.
  const withFormat = (key: KeyObject) =>
    alg === "ES256" ? { key, dsaEncoding: "ieee-p1363" as const } : key;
  const signingKey = withFormat(privateKey);
  const verifyingKey = withFormat(publicKey);
  return {
    signSync: (data) => sign(digest, data, signingKey),
    verifySync: (data, signature) => verify(digest, data, verifyingKey, signature),
    signAsync: (data) =>
      new Promise((resolve, reject) =>
        sign(digest, data, signingKey, (error, signature) =>
          error ? reject(error) : resolve(signature),
        ),
      ),
    verifyAsync: (data, signature) =>
      new Promise((resolve, reject) =>
        verify(digest, data, verifyingKey, signature, (error, ok) =>
          error ? reject(error) : resolve(ok),
        ),
      ),
  };
}

/** Web Crypto's own call, with keys imported once: the ceiling for runtime-agnostic code. */
async function webCrypto(alg: SigningAlgorithm, jwk: SigningKey) {
  const params = {
    EdDSA: { name: "Ed25519" },
    ES256: { name: "ECDSA", hash: "SHA-256" },
    RS256: { name: "RSASSA-PKCS1-v1_5" },
    HS256: { name: "HMAC" },
  }[alg];
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = jwk;
  // jose turns an "oct" JWK into raw bytes, not a CryptoKey: import the HMAC key directly.
  const signing =
    alg === "HS256"
      ? await crypto.subtle.importKey(
          "raw",
          new Uint8Array(base64url.decode(jwk.k as string)),
          { name: "HMAC", hash: "SHA-256" },
          false,
          ["sign", "verify"],
        )
      : ((await importJWK(jwk, alg)) as CryptoKey);
  const verifying = alg === "HS256" ? signing : ((await importJWK(publicJwk, alg)) as CryptoKey);
  return {
    sign: (data: Uint8Array<ArrayBuffer>) => crypto.subtle.sign(params, signing, data),
    verify: (data: Uint8Array<ArrayBuffer>, signature: Uint8Array<ArrayBuffer>) =>
      crypto.subtle.verify(params, verifying, signature, data),
  };
}

function sessionRecord(): SessionRecord {
  const now = new Date();
  return {
    id: "bench-session-0000000000",
    subject: "user-1",
    clientId: "default",
    generation: 0,
    currentHash: "x".repeat(43),
    previousHash: null,
    sealedSuccessor: null,
    rotatedAt: null,
    createdAt: now,
    lastUsedAt: now,
    idleExpiresAt: new Date(now.getTime() + 86_400_000),
    expiresAt: new Date(now.getTime() + 86_400_000),
    purgeAfter: new Date(now.getTime() + 86_400_000),
    revokedAt: null,
    revokeReason: null,
    client: null,
    bindingKey: null,
    claims: null,
    dpopJkt: null,
  };
}

async function algorithmRows(
  ctx: BenchContext,
  alg: SigningAlgorithm,
  internals: CoreInternals | string,
): Promise<void> {
  const jwk = await generateSigningKey(alg, { kid: `bench-${alg}` });
  const store = memoryStore();
  const config = {
    issuer: "https://auth.example.com",
    audience: "https://api.example.com",
    keys: [jwk],
    store,
  };
  const tokens: Tokens = createTokens(config);
  const session = sessionRecord();
  let coreSign: Op;
  let signLabel: string;
  if (typeof internals === "string") {
    // Without the internal signer, issue() on the memory store is the closest path to signing.
    coreSign = () => tokens.issue({ subject: "user-1" });
    signLabel = `${alg} sign: core issue() on memoryStore`;
  } else {
    const coreCtx = internals.createContext(config);
    coreSign = () => internals.signAccessToken(coreCtx, session, Date.now());
    signLabel = `${alg} sign: core signAccessToken`;
  }
  const token = (await tokens.issue({ subject: "user-1" })).access_token;
  await tokens.verifyAccessToken(token);
  const dot = token.lastIndexOf(".");
  const signingInput = Buffer.from(token.slice(0, dot));
  const signature = Buffer.from(token.slice(dot + 1), "base64url");
  const raw = primitive(alg, jwk);
  const web = await webCrypto(alg, jwk);
  const webInput = new Uint8Array(signingInput);
  const webSignature = new Uint8Array(signature);
  if (!(await web.verify(webInput, webSignature))) throw new Error(`${alg}: Web Crypto disagrees`);
  if (!raw.verifySync(signingInput, signature)) throw new Error(`${alg}: baseline disagrees`);

  for (const concurrency of [1, 32]) {
    const bare = concurrency === 1 || alg === "HS256" ? "node:crypto sync" : "node:crypto async";
    const signResult = await compare(
      {
        core: () => coreSign,
        bare: () =>
          concurrency === 1 ? () => raw.signSync(signingInput) : () => raw.signAsync(signingInput),
        web: () => () => web.sign(webInput),
      },
      { concurrency, runs: ctx.runs, durationMs: ctx.durationMs },
    );
    ctx.add({
      section: SECTION,
      measure: signLabel,
      concurrency,
      unit: "ops/s",
      value: signResult.core,
      baseline: {
        name: `${bare} ${alg === "HS256" ? "createHmac" : "sign"}`,
        value: signResult.bare,
      },
    });
    ctx.add({
      section: SECTION,
      measure: `${alg} sign: crypto.subtle.sign alone (reference)`,
      concurrency,
      unit: "ops/s",
      value: signResult.web,
      baseline: {
        name: `${bare} ${alg === "HS256" ? "createHmac" : "sign"}`,
        value: signResult.bare,
      },
    });

    const verifyVariants: Record<string, WorkerFactory> = {
      core: () => () => tokens.verifyAccessToken(token),
      web: () => () => web.verify(webInput, webSignature),
      bare: () =>
        concurrency === 1
          ? () => raw.verifySync(signingInput, signature)
          : () => raw.verifyAsync(signingInput, signature),
    };
    if (alg === "HS256") {
      // What core would get from a synchronous pure-JS HMAC instead of Web Crypto.
      const key = base64url.decode(jwk.k as string);
      verifyVariants.noble = () => () => {
        const mac = hmac(sha256, key, signingInput);
        let diff = 0;
        for (let i = 0; i < mac.length; i++) diff |= (mac[i] as number) ^ (signature[i] as number);
        return diff === 0;
      };
    }
    const verifyResult = await compare(verifyVariants, {
      concurrency,
      runs: ctx.runs,
      durationMs: ctx.durationMs,
    });
    const bareVerify = {
      name: `${bare} ${alg === "HS256" ? "createHmac" : "verify"}`,
      value: verifyResult.bare as Stat,
    };
    ctx.add({
      section: SECTION,
      measure: `${alg} verify: core verifyAccessToken`,
      concurrency,
      unit: "ops/s",
      value: verifyResult.core as Stat,
      baseline: bareVerify,
      target: VERIFY_TARGET,
    });
    ctx.add({
      section: SECTION,
      measure: `${alg} verify: crypto.subtle.verify alone (reference)`,
      concurrency,
      unit: "ops/s",
      value: verifyResult.web as Stat,
      baseline: bareVerify,
    });
    if ("noble" in verifyResult) {
      ctx.add({
        section: SECTION,
        measure: `${alg} MAC check alone: @noble/hashes hmac (reference)`,
        concurrency,
        unit: "ops/s",
        value: verifyResult.noble as Stat,
        baseline: bareVerify,
      });
    }
  }
}

async function refreshTokenRows(ctx: BenchContext, internals: CoreInternals): Promise<void> {
  const label = Buffer.from("tokens/refresh-token/hash/v1\0");
  const secret = internals.newSecret();
  const nodeSecret = randomBytes(32);
  const key = randomBytes(32);
  const tagKey = internals.hmacKey(key);
  const sessionId = randomBytes(16).toString("base64url");
  const tagLabel = Buffer.from("tokens/refresh-token/tag/v2\0");
  const generate = await compare(
    {
      core: () => () =>
        internals.formatToken({ sessionId, generation: 7, secret: internals.newSecret() }, tagKey),
      bare: () => () => {
        const body = Buffer.alloc(68);
        Buffer.from(sessionId, "base64url").copy(body);
        body.writeUInt32BE(7, 16);
        randomBytes(32).copy(body, 20);
        const tag = createHmac("sha256", key).update(tagLabel).update(body.subarray(0, 52));
        tag.digest().copy(body, 52, 0, 16);
        return `tokens_rt_${body.toString("base64url")}`;
      },
    },
    { concurrency: 1, runs: ctx.runs, durationMs: ctx.durationMs },
  );
  ctx.add({
    section: SECTION,
    measure: "refresh token generate: core newSecret+formatToken (session, generation, tag)",
    concurrency: 1,
    unit: "ops/s",
    value: generate.core,
    baseline: { name: "node:crypto randomBytes+createHmac+base64url", value: generate.bare },
  });
  const hashing = await compare(
    {
      core: () => () => internals.hashSecret(secret),
      bare: () => () => createHash("sha256").update(label).update(nodeSecret).digest("base64url"),
    },
    { concurrency: 1, runs: ctx.runs, durationMs: ctx.durationMs },
  );
  ctx.add({
    section: SECTION,
    measure: "refresh token hash: core hashSecret",
    concurrency: 1,
    unit: "ops/s",
    value: hashing.core,
    baseline: { name: "node:crypto createHash", value: hashing.bare },
  });
}

export const cryptoSection: Section = {
  id: "crypto",
  title: "Crypto: access-token signing and verification, refresh-token minting",
  async run(ctx) {
    const internals = await coreInternals();
    if (typeof internals === "string") {
      ctx.note(
        SECTION,
        `core internals not importable (${internals}); signing measured through issue() instead`,
      );
    }
    for (const alg of ALGORITHMS) {
      ctx.log(`crypto: ${alg}`);
      await algorithmRows(ctx, alg, internals);
    }
    if (typeof internals !== "string") await refreshTokenRows(ctx, internals);
    ctx.note(
      SECTION,
      "Baseline at concurrency 1: the synchronous node:crypto call; at 32 in flight: its callback form (libuv thread pool), except HMAC, which has none. Both sign or verify exactly the JWS signing input core produced. Core runs its own compact-JWS code; with Node's crypto available, an HMAC is computed inline, and each asymmetric operation runs inline (Node's synchronous call) while nothing else is waiting and on the thread pool (Node's callback form; Web Crypto where that form is missing) when calls overlap (packages/core/src/internal/inline-or-pool.ts).",
    );
  },
};
