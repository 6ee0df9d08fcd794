/*
 * verifyAccessToken against jose's jwtVerify, as the reference for which reason each refusal
 * gets: over a corpus of headers and claims, signed by the key and forged, both must agree.
 * The corpus leaves out only what core refuses on purpose where jose accepts: the `b64` header
 * (with or without `crit`) and base64url that is not canonical (see bytes.test.ts).
 */
import { memoryStore } from "@tokens/memory";
import { errors, importJWK, type JWTVerifyGetKey, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { createTokens, generateSigningKey, type SigningAlgorithm } from "../src/index.js";
import { signRaw } from "./support/jws.js";

const issuer = "https://auth.example.test";
const audience = ["https://api.example.test", "https://admin.example.test"];
const now = Date.UTC(2026, 0, 1);
const nowSeconds = now / 1000;
const TOLERANCE = 5;

/** A refusal from the key lookup, as core's did it when it ran on jose. */
class KeyRefusal extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/**
 * The verdict core gave when it ran on jose's jwtVerify: the reason, and for a claim the
 * message naming it.
 */
async function joseVerdict(token: string, getKey: JWTVerifyGetKey, algorithms: string[]) {
  const claimFailed = (claim: string) =>
    `invalid_claims: access token claim check failed: ${claim}`;
  try {
    const { payload } = await jwtVerify(token, getKey, {
      algorithms,
      issuer,
      audience,
      typ: "at+jwt",
      clockTolerance: TOLERANCE,
      currentDate: new Date(now),
      requiredClaims: ["iss", "sub", "aud", "exp", "iat", "jti", "client_id", "sid"],
    });
    const { sub, sid, client_id } = payload;
    if ([sub, sid, client_id].some((claim) => typeof claim !== "string")) {
      return "invalid_claims: access token claims have the wrong types";
    }
    if ((payload.iat as number) > nowSeconds + TOLERANCE) return claimFailed("iat");
    return "ok";
  } catch (error) {
    if (error instanceof KeyRefusal) return error.reason;
    if (error instanceof errors.JWTExpired) return "expired";
    if (error instanceof errors.JWTClaimValidationFailed) return claimFailed(error.claim);
    if (error instanceof errors.JWSSignatureVerificationFailed) return "invalid_signature";
    if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
      return "unsupported_algorithm";
    }
    return "malformed";
  }
}

const headers = (alg: SigningAlgorithm) => {
  const out: Record<string, unknown>[] = [];
  for (const a of [alg, "none", alg === "HS256" ? "EdDSA" : "HS256", "", 5, undefined])
    for (const kid of ["k1", "k2", 1, undefined])
      for (const typ of ["at+jwt", "application/AT+JWT", "JWT", undefined, 5])
        for (const extra of [{}, { crit: ["x"], x: 1 }, { crit: [] }, { crit: "x" }, { jku: "u" }])
          out.push({ alg: a, kid, typ, ...extra });
  return out;
};

const claimVariants = (claims: Record<string, unknown>) => {
  const t = nowSeconds;
  const out: unknown[] = [claims, [claims], "null", "{", `${JSON.stringify(claims)} `];
  const names = Object.keys(claims);
  for (const name of names) {
    for (const value of [1, "s", null, [], [audience[1]], issuer])
      out.push({ ...claims, [name]: value });
    // Every pair missing (a claim with itself: one missing): which one is reported matters.
    for (const other of names) {
      const { [name]: _, [other]: __, ...without } = claims;
      out.push(without);
    }
  }
  for (const delta of [-1000, -6, -4, 4, 6, 1000]) {
    for (const name of ["exp", "nbf", "iat"]) out.push({ ...claims, [name]: t + delta });
  }
  return out;
};

describe.each<SigningAlgorithm>(["EdDSA", "HS256"])("%s: reasons agree with jose", (alg) => {
  it("for every header and claim set in the corpus, signed and forged", async () => {
    const key = await generateSigningKey(alg, { kid: "k1" });
    const forger = await generateSigningKey(alg, { kid: "k1" });
    const tokens = createTokens({
      issuer,
      audience,
      keys: [key],
      store: memoryStore(),
      now: () => now,
    });
    const issued = (await tokens.issue({ subject: "alice" })).access_token;
    const claims = JSON.parse(Buffer.from(issued.split(".")[1] as string, "base64url").toString());
    const { d: _d, ...publicJwk } = key;
    const verifying = await importJWK(publicJwk, alg);
    const getKey: JWTVerifyGetKey = (header) => {
      if (header.kid !== "k1") throw new KeyRefusal("unknown_key");
      if (header.alg !== alg) throw new KeyRefusal("unsupported_algorithm");
      return verifying;
    };
    const ours = async (token: string) =>
      tokens.verifyAccessToken(token).then(
        () => "ok",
        (error: { reason: string; message: string }) =>
          error.reason === "invalid_claims" ? `${error.reason}: ${error.message}` : error.reason,
      );
    const corpus = [
      ...headers(alg).flatMap((header) => [
        signRaw(key, header, claims),
        signRaw(forger, header, claims),
      ]),
      ...claimVariants(claims).flatMap((payload) => {
        const header = { alg, typ: "at+jwt", kid: "k1" };
        return [signRaw(key, header, payload), signRaw(forger, header, payload)];
      }),
    ];
    const disagreements: string[] = [];
    for (const token of corpus) {
      const [expected, actual] = [await joseVerdict(token, getKey, [alg]), await ours(token)];
      if (expected !== actual)
        disagreements.push(`${token.slice(0, 60)}…: jose ${expected}, core ${actual}`);
    }
    expect(disagreements).toEqual([]);
    expect(corpus.length).toBeGreaterThan(1000);
  });
});
