import { memoryStore } from "@tokens/memory";
import { base64url, CompactSign, importJWK, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { createTokens, generateSigningKey, type SigningKey, type Tokens } from "../src/index.js";
import { CASES, onBackend, refusal, segment, signRaw } from "./support/jws.js";

const issuer = "https://auth.example.test";
const audience = "https://api.example.test";
const now = Date.UTC(2026, 0, 1);

describe.each(CASES)(
  "verifyAccessToken ($alg, $backend backend) rejects attacks",
  ({ alg, backend }) => {
    let tokens: Tokens;
    let key: SigningKey;
    let valid: string;
    let claims: Record<string, unknown>;

    onBackend(backend);
    beforeAll(async () => {
      key = await generateSigningKey(alg, { kid: `${alg}-1` });
      tokens = createTokens({
        issuer,
        audience,
        keys: [key],
        store: memoryStore(),
        now: () => now,
      });
      valid = (await tokens.issue({ subject: "alice" })).access_token;
      claims = await tokens.verifyAccessToken(valid);
    });

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

    async function expectReason(token: unknown, reason: string) {
      expect(await refusal(tokens, token)).toBe(reason);
    }

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
      const part = (v: unknown) => base64url.encode(JSON.stringify(v));
      const unsigned = `${part({ alg: "none", typ: "at+jwt", kid: key.kid })}.${part(claims)}.`;
      await expectReason(unsigned, "unsupported_algorithm");
    });

    it("rejects a token under another algorithm with our kid (key confusion)", async () => {
      // The classic: HS256 keyed with the published public key. Against an HS256 ring, an
      // asymmetric token naming the HMAC key.
      const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = key;
      const forged =
        alg === "HS256"
          ? await sign(claims, {}, await generateSigningKey("EdDSA", { kid: key.kid }))
          : await new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
              .setProtectedHeader({ alg: "HS256", typ: "at+jwt", kid: key.kid })
              .sign(new TextEncoder().encode(JSON.stringify(publicJwk)));
      await expectReason(forged, "unsupported_algorithm");
    });

    it("rejects an unknown or injected kid", async () => {
      const other = await generateSigningKey(alg, { kid: "attacker" });
      await expectReason(await sign(claims, {}, other), "unknown_key");
      await expectReason(await sign(claims, { kid: "../../etc/passwd" }), "unknown_key");
      await expectReason(await sign(claims, { kid: undefined }), "unknown_key");
      await expectReason(signRaw(key, { alg, typ: "at+jwt", kid: 1 }, claims), "unknown_key");
    });

    it("ignores jku, x5u, x5c and embedded jwk headers (a token signed by the attacker's key fails)", async () => {
      const attacker = await generateSigningKey(alg, { kid: key.kid });
      const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...attackerPublic } = attacker;
      const forged = await sign(
        claims,
        {
          jwk: attackerPublic,
          jku: "https://evil.test/jwks",
          x5u: "https://evil.test/x5u",
          x5c: ["MIIB"],
        },
        attacker,
      );
      await expectReason(forged, "invalid_signature");
    });

    it("rejects crit headers, b64 included", async () => {
      const header = { alg, typ: "at+jwt", kid: key.kid };
      // jose refuses to produce such tokens, so they are signed directly.
      await expectReason(
        signRaw(key, { ...header, crit: ["exp-critical"], "exp-critical": true }, claims),
        "unsupported_algorithm",
      );
      await expectReason(
        signRaw(key, { ...header, crit: ["b64"], b64: true }, claims),
        "unsupported_algorithm",
      );
      await expectReason(signRaw(key, { ...header, b64: false }, claims), "unsupported_algorithm");
      for (const crit of [[], "b64", [""], [1], null]) {
        await expectReason(signRaw(key, { ...header, crit }, claims), "malformed");
      }
    });

    it("rejects the wrong typ and accepts the RFC 9068 spellings", async () => {
      await expectReason(await sign(claims, { typ: "JWT" }), "invalid_claims");
      await expectReason(await sign(claims, { typ: undefined }), "invalid_claims");
      await expectReason(await sign(claims, { typ: "application/jwt" }), "invalid_claims");
      // Checked after the signature: a forgery is refused as one, whatever its typ.
      const forger = await generateSigningKey(alg, { kid: key.kid });
      await expectReason(await sign(claims, { typ: "JWT" }, forger), "invalid_signature");
      for (const typ of ["application/at+jwt", "AT+JWT", "Application/At+Jwt"]) {
        await expect(tokens.verifyAccessToken(await sign(claims, { typ }))).resolves.toEqual(
          claims,
        );
      }
    });

    it("rejects a tampered header, payload or signature", async () => {
      const [h, , s] = valid.split(".");
      const payload = base64url.encode(JSON.stringify({ ...claims, sub: "mallory" }));
      await expectReason(`${h}.${payload}.${s}`, "invalid_signature");
      const flipped = `${h}.${valid.split(".")[1]}.${s?.startsWith("A") ? "B" : "A"}${s?.slice(1)}`;
      await expectReason(flipped, "invalid_signature");
      const header = segment({ typ: "at+jwt", alg, kid: key.kid });
      await expectReason(valid.replace(h as string, header), "invalid_signature");
      await expectReason(`${h}.${payload}.${s?.slice(0, 40)}`, "invalid_signature");
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
      await expectReason(
        await sign({ ...claims, aud: "https://other.test" }, {}),
        "invalid_claims",
      );
    });

    it("rejects a token from another issuer's key with our kid", async () => {
      const foreign = await generateSigningKey(alg, { kid: key.kid });
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
  },
);

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
