import { base64url, exportJWK, generateKeyPair, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { dpopKey } from "../src/testing/index.js";
import { dpopSetup, expectProofRefused, jwtClaims, TOKEN_URL } from "./support/dpop.js";

const SECOND = 1000;

/** A compact JWT from raw parts, signed or not: what no library would make. */
function rawJwt(header: object, payload: object, signature = ""): string {
  const encode = (part: object) => base64url.encode(JSON.stringify(part));
  return `${encode(header)}.${encode(payload)}.${signature}`;
}

describe("DPoP proofs: accepted", () => {
  it.each(["ES256", "EdDSA", "RS256"] as const)(
    "binds a session to an %s key: the stored thumbprint, cnf.jkt, token_type DPoP",
    async (alg) => {
      const setup = await dpopSetup();
      const key = await dpopKey(alg);
      const issued = await setup.tokens.issue({
        subject: "alice",
        dpop: await setup.atTokenEndpoint(key),
      });
      expect(issued.token_type).toBe("DPoP");
      expect(jwtClaims(issued.access_token).cnf).toEqual({ jkt: key.jkt });
      expect((await setup.store.getSession(issued.session.id))?.dpopJkt).toBe(key.jkt);
    },
  );

  it("compares htu without query and fragment, after URL normalisation", async () => {
    const setup = await dpopSetup();
    for (const htu of [
      `${TOKEN_URL}?client=web#top`,
      "HTTPS://AUTH.example.test:443/auth/token",
      "https://auth.example.test/auth/./token",
    ]) {
      const dpop = await setup.atTokenEndpoint(setup.key, { htu });
      const issued = await setup.tokens.issue({ subject: "alice", dpop });
      expect(issued.token_type).toBe("DPoP");
    }
  });

  it("accepts an iat up to proofMaxAge + clockTolerance old and clockTolerance ahead", async () => {
    const setup = await dpopSetup({ clockTolerance: 5, dpop: { proofMaxAge: 60 } });
    const now = Math.floor(setup.clock.now() / 1000);
    for (const iat of [now - 64, now + 4]) {
      const dpop = await setup.atTokenEndpoint(setup.key, { iat });
      await expect(setup.tokens.issue({ subject: "alice", dpop })).resolves.toBeTruthy();
    }
  });
});

describe("DPoP proofs: refused with invalid_dpop_proof", () => {
  it("a proof for another htu, another htm, or an htu that is no URL", async () => {
    const setup = await dpopSetup();
    const cases = [
      { htu: "https://auth.example.test/auth/revoke" },
      { htu: "https://evil.example.test/auth/token" },
      { htu: "http://auth.example.test/auth/token" },
      { htu: "not a url" },
      { htu: "urn:auth:token" },
      { htm: "GET" },
      { htm: "post" },
    ];
    for (const options of cases) {
      const dpop = await setup.atTokenEndpoint(setup.key, options);
      await expectProofRefused(setup.tokens.issue({ subject: "alice", dpop }));
    }
    expect(setup.store.calls).toEqual([]);
  });

  it("a stale iat and an iat in the future", async () => {
    const setup = await dpopSetup({ clockTolerance: 5, dpop: { proofMaxAge: 60 } });
    const now = Math.floor(setup.clock.now() / 1000);
    for (const iat of [now - 66, now + 6]) {
      const dpop = await setup.atTokenEndpoint(setup.key, { iat });
      await expectProofRefused(setup.tokens.issue({ subject: "alice", dpop }));
    }
  });

  it("a replayed proof: the same proof a second time", async () => {
    const setup = await dpopSetup();
    const dpop = await setup.atTokenEndpoint();
    await setup.tokens.issue({ subject: "alice", dpop });
    await expectProofRefused(setup.tokens.issue({ subject: "alice", dpop }), "dpop_replayed");
  });

  it("a jwk header with a private part", async () => {
    const setup = await dpopSetup();
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    const privateJwk = await exportJWK(privateKey);
    const dpop = await setup.atTokenEndpoint(
      { ...setup.key, privateKey },
      { header: { jwk: privateJwk } },
    );
    await expectProofRefused(setup.tokens.issue({ subject: "alice", dpop }));
    // Even a public key with a stray private member is refused.
    const stray = await setup.atTokenEndpoint(setup.key, {
      header: { jwk: { ...setup.key.publicJwk, d: privateJwk.d } },
    });
    await expectProofRefused(setup.tokens.issue({ subject: "alice", dpop: stray }));
  });

  it("alg none", async () => {
    const setup = await dpopSetup();
    const now = Math.floor(setup.clock.now() / 1000);
    const proof = rawJwt(
      { alg: "none", typ: "dpop+jwt", jwk: setup.key.publicJwk },
      { jti: "n1", htm: "POST", htu: TOKEN_URL, iat: now },
    );
    await expectProofRefused(
      setup.tokens.issue({ subject: "alice", dpop: { proof, method: "POST", url: TOKEN_URL } }),
    );
  });

  it("HS256, with a symmetric jwk or with the client's public key as the secret", async () => {
    const setup = await dpopSetup();
    const now = Math.floor(setup.clock.now() / 1000);
    const secret = crypto.getRandomValues(new Uint8Array(32));
    const payload = { jti: "h1", htm: "POST", htu: TOKEN_URL, iat: now };
    for (const jwk of [{ kty: "oct", k: base64url.encode(secret) }, setup.key.publicJwk]) {
      const proof = await new SignJWT(payload)
        .setProtectedHeader({ alg: "HS256", typ: "dpop+jwt", jwk })
        .sign(secret);
      await expectProofRefused(
        setup.tokens.issue({ subject: "alice", dpop: { proof, method: "POST", url: TOKEN_URL } }),
      );
    }
  });

  it("an algorithm left out of the configured list", async () => {
    const setup = await dpopSetup({ dpop: { algorithms: ["ES256"] } });
    const dpop = await setup.atTokenEndpoint(await dpopKey("EdDSA"));
    await expectProofRefused(setup.tokens.issue({ subject: "alice", dpop }));
  });

  it("a wrong typ, a signature by another key than the jwk, a missing or oversized jti", async () => {
    const setup = await dpopSetup();
    const other = await dpopKey();
    const cases = [
      { header: { typ: "JWT" } },
      { header: { jwk: other.publicJwk } },
      { claims: { jti: undefined } },
      { claims: { jti: 42 } },
      { jti: "x".repeat(257) },
      { claims: { iat: undefined } },
      { claims: { iat: "now" } },
      { claims: { htm: undefined } },
      { claims: { htu: undefined } },
    ];
    for (const options of cases) {
      const dpop = await setup.atTokenEndpoint(setup.key, options);
      await expectProofRefused(setup.tokens.issue({ subject: "alice", dpop }));
    }
  });

  it("garbage, an empty header, two proofs in one header", async () => {
    const setup = await dpopSetup();
    const one = await setup.proof(setup.key);
    const two = await setup.proof(setup.key);
    for (const proof of [
      "",
      "garbage",
      "a.b.c",
      `${one}, ${two}`,
      `${one},${two}`,
      "x".repeat(9000),
    ]) {
      await expectProofRefused(
        setup.tokens.issue({ subject: "alice", dpop: { proof, method: "POST", url: TOKEN_URL } }),
      );
    }
  });

  it("a request the server described wrongly is invalid_request, not the proof's fault", async () => {
    const setup = await dpopSetup();
    const proof = await setup.proof(setup.key);
    for (const dpop of [
      { proof, method: "POST", url: "/auth/token" },
      { proof, method: 1 as never, url: TOKEN_URL },
      "header" as never,
    ]) {
      await expect(setup.tokens.issue({ subject: "alice", dpop })).rejects.toMatchObject({
        code: "invalid_request",
        reason: "malformed",
      });
    }
  });
});

describe("DPoP replay cache", () => {
  it("forgets the oldest proof beyond replayCacheSize (the documented bound), the newest not", async () => {
    const setup = await dpopSetup({ dpop: { replayCacheSize: 2 } });
    const proofs = [
      await setup.atTokenEndpoint(),
      await setup.atTokenEndpoint(),
      await setup.atTokenEndpoint(),
    ];
    for (const dpop of proofs) await setup.tokens.issue({ subject: "alice", dpop });
    await expectProofRefused(
      setup.tokens.issue({ subject: "alice", dpop: proofs[2] as never }),
      "dpop_replayed",
    );
    // The first was pushed out by the third: within its window it is accepted once more.
    await expect(
      setup.tokens.issue({ subject: "alice", dpop: proofs[0] as never }),
    ).resolves.toBeTruthy();
  });

  it("keeps refusing a replay for the whole proof window, then the iat check takes over", async () => {
    const setup = await dpopSetup({ clockTolerance: 0, dpop: { proofMaxAge: 60 } });
    const dpop = await setup.atTokenEndpoint();
    await setup.tokens.issue({ subject: "alice", dpop });
    setup.clock.advance(59 * SECOND);
    await expectProofRefused(setup.tokens.issue({ subject: "alice", dpop }), "dpop_replayed");
    setup.clock.advance(2 * SECOND);
    await expectProofRefused(setup.tokens.issue({ subject: "alice", dpop }), "dpop_invalid");
  });

  it("tells proofs apart by key: the same jti under two keys is no replay", async () => {
    const setup = await dpopSetup();
    const other = await dpopKey();
    await setup.tokens.issue({
      subject: "alice",
      dpop: await setup.atTokenEndpoint(setup.key, { jti: "same" }),
    });
    await expect(
      setup.tokens.issue({
        subject: "alice",
        dpop: await setup.atTokenEndpoint(other, { jti: "same" }),
      }),
    ).resolves.toBeTruthy();
  });
});
