import { memoryStore } from "@tokens/memory";
import { base64url, CompactSign, exportJWK, generateKeyPair, importJWK, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import {
  createTokens,
  generateSigningKey,
  InvalidTokenError,
  type SigningKey,
  type Tokens,
} from "../src/index.js";

const issuer = "https://auth.example.test";
const audience = "https://api.example.test";
const now = Date.UTC(2026, 0, 1);
let tokens: Tokens;
let key: SigningKey;
let valid: string;
let claims: Record<string, unknown>;

async function sign(
  payload: Record<string, unknown>,
  header: Record<string, unknown>,
  signingKey: SigningKey = key,
) {
  return new SignJWT(payload)
    .setProtectedHeader({
      alg: signingKey.alg,
      kid: signingKey.kid,
      typ: "at+jwt",
      ...header,
    } as never)
    .sign(await importJWK(signingKey, signingKey.alg));
}

function unsigned(header: Record<string, unknown>, payload: Record<string, unknown>) {
  const part = (v: unknown) => base64url.encode(JSON.stringify(v));
  return `${part(header)}.${part(payload)}.`;
}

async function expectReason(token: unknown, reason: string) {
  const error = await tokens.verifyAccessToken(token).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidTokenError);
  expect(error).toMatchObject({ code: "invalid_token", reason });
}

beforeAll(async () => {
  key = await generateSigningKey("RS256", { kid: "rsa-1" });
  tokens = createTokens({ issuer, audience, keys: [key], store: memoryStore(), now: () => now });
  valid = (await tokens.issue({ subject: "alice" })).access_token;
  claims = await tokens.verifyAccessToken(valid);
});

describe("verifyAccessToken rejects attacks", () => {
  it("accepts the genuine token with RFC 9068 claims", () => {
    expect(claims).toMatchObject({
      iss: issuer,
      sub: "alice",
      aud: audience,
      client_id: "default",
    });
    expect(typeof claims.sid).toBe("string");
    expect(typeof claims.jti).toBe("string");
    expect(claims.exp).toBe((claims.iat as number) + 900);
  });

  it("rejects alg none", async () => {
    await expectReason(
      unsigned({ alg: "none", typ: "at+jwt", kid: key.kid }, claims),
      "unsupported_algorithm",
    );
  });

  it("rejects HS256 signed with the RSA public key (key confusion)", async () => {
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = key;
    const secret = new TextEncoder().encode(JSON.stringify(publicJwk));
    const forged = await new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
      .setProtectedHeader({ alg: "HS256", typ: "at+jwt", kid: key.kid })
      .sign(secret);
    await expectReason(forged, "unsupported_algorithm");
  });

  it("rejects an unknown or injected kid", async () => {
    const other = await generateSigningKey("RS256", { kid: "attacker" });
    await expectReason(await sign(claims, {}, other), "unknown_key");
    await expectReason(await sign(claims, { kid: "../../etc/passwd" }), "unknown_key");
    await expectReason(await sign(claims, { kid: undefined }), "unknown_key");
  });

  it("ignores jku, x5u and embedded jwk headers (a token signed by the attacker's key fails)", async () => {
    const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
    const jwk = await exportJWK(publicKey);
    const forged = await new SignJWT(claims)
      .setProtectedHeader({
        alg: "RS256",
        typ: "at+jwt",
        kid: key.kid,
        jwk,
        jku: "https://evil.test/jwks",
        x5u: "https://evil.test/x5u",
      })
      .sign(privateKey);
    await expectReason(forged, "invalid_signature");
  });

  it("rejects unknown crit headers", async () => {
    // jose refuses to produce such a token, so sign the bytes directly.
    const header = {
      alg: "RS256",
      typ: "at+jwt",
      kid: key.kid,
      crit: ["exp-critical"],
      "exp-critical": true,
    };
    const input = `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(claims))}`;
    const privateKey = (await importJWK(key, "RS256")) as CryptoKey;
    const signature = await crypto.subtle.sign(
      "RSASSA-PKCS1-v1_5",
      privateKey,
      new TextEncoder().encode(input),
    );
    await expectReason(
      `${input}.${base64url.encode(new Uint8Array(signature))}`,
      "unsupported_algorithm",
    );
  });

  it("rejects the wrong typ", async () => {
    await expectReason(await sign(claims, { typ: "JWT" }), "invalid_claims");
  });

  it("rejects a tampered payload and a tampered signature", async () => {
    const [h, , s] = valid.split(".");
    const payload = base64url.encode(JSON.stringify({ ...claims, sub: "mallory" }));
    await expectReason(`${h}.${payload}.${s}`, "invalid_signature");
    const flipped = `${valid.slice(0, -2)}${valid.endsWith("A") ? "B" : "A"}A`;
    await expectReason(flipped, "invalid_signature");
  });

  it("rejects expired tokens past the leeway and accepts within it", async () => {
    const iat = Math.floor(now / 1000) - 1000;
    await expectReason(await sign({ ...claims, iat, exp: iat + 900 }, {}), "expired");
    await expect(
      tokens.verifyAccessToken(await sign({ ...claims, iat, exp: iat + 997 }, {})),
    ).resolves.toBeTruthy();
  });

  it("rejects nbf and iat in the future", async () => {
    const future = Math.floor(now / 1000) + 600;
    await expectReason(await sign({ ...claims, nbf: future }, {}), "invalid_claims");
    await expectReason(
      await sign({ ...claims, iat: future, exp: future + 900 }, {}),
      "invalid_claims",
    );
  });

  it("rejects the wrong iss or aud", async () => {
    await expectReason(await sign({ ...claims, iss: "https://evil.test" }, {}), "invalid_claims");
    await expectReason(await sign({ ...claims, aud: "https://other.test" }, {}), "invalid_claims");
  });

  it("rejects a token from another issuer's key with our kid", async () => {
    const foreign = await generateSigningKey("RS256", { kid: key.kid });
    await expectReason(await sign(claims, {}, foreign), "invalid_signature");
  });

  it("rejects missing required claims", async () => {
    const { sid: _sid, ...noSid } = claims;
    await expectReason(await sign(noSid, {}), "invalid_claims");
  });

  it.each([undefined, null, 42, {}, "", "a.b", "a.b.c", "x".repeat(1_000_000), "....", "\u0000"])(
    "rejects garbage %#",
    async (input) => {
      await expectReason(input, "malformed");
    },
  );
});

describe("key rotation by kid", () => {
  it("signs with the active key and verifies with every configured key", async () => {
    const oldKey = await generateSigningKey("EdDSA", { kid: "old" });
    const newKey = await generateSigningKey("ES256", { kid: "new" });
    const store = memoryStore();
    const before = createTokens({ issuer, audience, keys: [oldKey], store });
    const during = createTokens({
      issuer,
      audience,
      keys: [oldKey, newKey],
      activeKeyId: "new",
      store,
    });
    const oldToken = (await before.issue({ subject: "bob" })).access_token;
    const newToken = (await during.issue({ subject: "bob" })).access_token;
    expect(
      JSON.parse(new TextDecoder().decode(base64url.decode(newToken.split(".")[0] as string))).kid,
    ).toBe("new");
    await expect(during.verifyAccessToken(oldToken)).resolves.toMatchObject({ sub: "bob" });
    await expect(during.verifyAccessToken(newToken)).resolves.toMatchObject({ sub: "bob" });
    // `before` knows only EdDSA: the ES256 token fails on its algorithm before any key is chosen.
    await expect(before.verifyAccessToken(newToken)).rejects.toMatchObject({
      reason: "unsupported_algorithm",
    });
    expect((await during.jwks()).keys.map((k) => k.kid)).toEqual(["old", "new"]);
  });

  it("publishes only public members", async () => {
    const keys = await Promise.all(
      (["EdDSA", "ES256", "RS256", "HS256"] as const).map((alg) =>
        generateSigningKey(alg, { kid: alg }),
      ),
    );
    const jwks = await createTokens({ issuer, audience, keys, store: memoryStore() }).jwks();
    expect(jwks.keys.map((k) => k.kid)).toEqual(["EdDSA", "ES256", "RS256"]);
    for (const jwk of jwks.keys) {
      for (const member of ["d", "p", "q", "dp", "dq", "qi", "k"])
        expect(jwk).not.toHaveProperty(member);
      expect(jwk.use).toBe("sig");
    }
  });
});
