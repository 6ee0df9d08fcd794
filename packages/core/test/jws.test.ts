import { memoryStore } from "@tokens/memory";
import { createLocalJWKSet, importJWK, jwtVerify } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { createTokens, generateSigningKey, type SigningKey, type Tokens } from "../src/index.js";
import { signAccessToken } from "../src/internal/access-token.js";
import { createContext } from "../src/internal/context.js";
import { cachedHeaders } from "../src/internal/jws.js";
import { CASES, onBackend, refusal, segment, signatureOf, signRaw } from "./support/jws.js";

const issuer = "https://auth.example.test";
const audience = ["https://api.example.test", "https://admin.example.test"];

describe.each(CASES)("access tokens ($alg, $backend backend)", ({ alg, backend }) => {
  let tokens: Tokens;
  let key: SigningKey;
  let token: string;
  let claims: Record<string, unknown>;
  const header = () => ({ alg, typ: "at+jwt", kid: key.kid });

  onBackend(backend);
  beforeAll(async () => {
    key = await generateSigningKey(alg, { kid: `${alg}-key` });
    tokens = createTokens({ issuer, audience, keys: [key], store: memoryStore() });
    token = (await tokens.issue({ subject: "alice", claims: { role: "admin", n: [1, "é"] } }))
      .access_token;
    claims = await tokens.verifyAccessToken(token);
  });

  const reason = (candidate: string) => refusal(tokens, candidate);

  it("signs tokens jose verifies against the published keys", async () => {
    const verifying =
      alg === "HS256" ? await importJWK(key, alg) : createLocalJWKSet(await tokens.jwks());
    const { payload, protectedHeader } = await jwtVerify(token, verifying as never, {
      algorithms: [alg],
      issuer,
      audience: audience[0],
      typ: "at+jwt",
    });
    expect(protectedHeader).toEqual(header());
    expect(payload).toEqual(claims);
    expect(payload).toMatchObject({ sub: "alice", role: "admin", n: [1, "é"], aud: audience });
  });

  it("verifies tokens signed by others under our key", async () => {
    const payload = { ...claims, jti: "other" };
    await expect(tokens.verifyAccessToken(signRaw(key, header(), payload))).resolves.toEqual(
      payload,
    );
  });

  it("checks headers in any spelling, not only the one it caches", async () => {
    const payload = { ...claims, jti: "spelling" };
    for (const spelling of [
      { kid: key.kid, typ: "at+jwt", alg },
      { ...header(), typ: "application/at+jwt" },
      { ...header(), typ: "At+JWT" },
      { ...header(), cty: "unused", x5t: "ignored" },
    ]) {
      await expect(tokens.verifyAccessToken(signRaw(key, spelling, payload))).resolves.toEqual(
        payload,
      );
    }
    const spaced = `{ "alg": "${alg}", "typ": "at+jwt", "kid": "${key.kid}" }`;
    await expect(tokens.verifyAccessToken(signRaw(key, spaced, payload))).resolves.toEqual(payload);
  });

  it("caches the header segments of both RFC 9068 typ spellings, which verify", async () => {
    const segments = cachedHeaders(alg, key.kid);
    expect(segments).toEqual([
      segment(header()),
      segment({ ...header(), typ: "application/at+jwt" }),
    ]);
    expect(segments[0]).toBe(token.split(".")[0]);
    const payload = segment({ ...claims, jti: "cached" });
    for (const cached of segments) {
      const input = `${cached}.${payload}`;
      const candidate = `${input}.${signatureOf(key, input).toString("base64url")}`;
      await expect(tokens.verifyAccessToken(candidate)).resolves.toMatchObject({ jti: "cached" });
    }
  });

  it("refuses anything but three segments of strict base64url", async () => {
    const [h, p, s] = token.split(".") as [string, string, string];
    expect(await reason(`${h}.${p}`)).toBe("malformed");
    expect(await reason(`${token}.${s}`)).toBe("malformed");
    expect(await reason(`${h}.${p}.${s}.`)).toBe("malformed");
    expect(await reason(`${h}=.${p}.${s}`)).toBe("malformed");
    expect(await reason(`${h}.${p}.${s}==`)).toBe("malformed");
    expect(await reason(`${h}.${p}.${s.slice(0, 10)} ${s.slice(10)}`)).toBe("malformed");
    expect(await reason(`${h}.${p}.${s.slice(0, 10)}+/${s.slice(12)}`)).toBe("malformed");
    expect(await reason(`${h}.${p}.${s.slice(0, 10)}é${s.slice(11)}`)).toBe("malformed");
    expect(await reason(`${h}.${p}.AAAAA`)).toBe("malformed");
    expect(await reason(`${h.slice(0, 8)} ${h.slice(8)}.${p}.${s}`)).toBe("malformed");
    // The payload is read only under a valid signature: re-signed around the broken segment.
    const input = `${h}.${p.slice(0, 8)}!${p.slice(9)}`;
    const resigned = `${input}.${signatureOf(key, input).toString("base64url")}`;
    expect(await reason(resigned)).toBe("malformed");
  });

  it("refuses a non-canonical last character (unused bits set)", async () => {
    // Only the low bits of the last character change: the same bytes in another spelling.
    const [h, p, s] = token.split(".") as [string, string, string];
    // 64-, 256- and 32-byte signatures all leave unused bits in their last character.
    expect(s.length % 4).not.toBe(0);
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = alphabet.indexOf(s.at(-1) as string);
    const loose = `${s.slice(0, -1)}${alphabet[last | 1]}`;
    expect(await reason(`${h}.${p}.${loose}`)).toBe("malformed");
  });

  it("refuses headers and payloads that are not JSON objects", async () => {
    const payload = { ...claims };
    expect(await reason(signRaw(key, [header()], payload))).toBe("malformed");
    expect(await reason(signRaw(key, "not json", payload))).toBe("malformed");
    expect(await reason(signRaw(key, new Uint8Array([0xff, 0xfe]), payload))).toBe("malformed");
    expect(await reason(signRaw(key, { ...header(), alg: undefined }, payload))).toBe("malformed");
    expect(await reason(signRaw(key, { ...header(), alg: "" }, payload))).toBe("malformed");
    expect(await reason(signRaw(key, { ...header(), alg: 256 }, payload))).toBe("malformed");
    for (const body of [[payload], "null", "", "{", new Uint8Array([0x7b, 0xc3, 0x28, 0x7d])]) {
      expect(await reason(signRaw(key, header(), body))).toBe("malformed");
    }
  });

  it("checks every claim as RFC 9068 asks", async () => {
    const iat = claims.iat as number;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ aud: ["https://elsewhere.test", audience[1]] }, "ok"],
      [{ aud: ["https://elsewhere.test"] }, "invalid_claims"],
      [{ aud: 1 }, "invalid_claims"],
      [{ iss: [issuer] }, "invalid_claims"],
      [{ exp: String(iat + 900) }, "invalid_claims"],
      [{ iat: String(iat) }, "invalid_claims"],
      [{ nbf: String(iat) }, "invalid_claims"],
      [{ nbf: iat }, "ok"],
      [{ sub: 1 }, "invalid_claims"],
      [{ sid: null }, "invalid_claims"],
      [{ client_id: {} }, "invalid_claims"],
      [{ jti: undefined }, "invalid_claims"],
    ];
    for (const [change, expected] of cases) {
      const candidate = signRaw(key, header(), { ...claims, ...change });
      if (expected === "ok")
        await expect(tokens.verifyAccessToken(candidate)).resolves.toBeTruthy();
      else expect(await reason(candidate), JSON.stringify(change)).toBe(expected);
    }
  });

  it("holds a token to the audience the caller names", async () => {
    const other = signRaw(key, header(), { ...claims, aud: audience[1] });
    await expect(tokens.verifyAccessToken(other, { audience: audience[1] })).resolves.toBeTruthy();
    await expect(tokens.verifyAccessToken(other, { audience: audience[0] })).rejects.toMatchObject({
      reason: "invalid_claims",
    });
  });

  it("signs what the signing key's header names, with a fresh jti each time", async () => {
    const ctx = createContext({ issuer, audience, keys: [key], store: memoryStore() });
    const session = { id: "s1", subject: "bob", clientId: "web", claims: { tier: "gold" } };

    const first = await signAccessToken(ctx, session as never, Date.now());
    const second = await signAccessToken(ctx, session as never, Date.now());
    const a = await tokens.verifyAccessToken(first);
    const b = await tokens.verifyAccessToken(second);
    expect(a).toMatchObject({ sub: "bob", sid: "s1", client_id: "web", tier: "gold" });
    expect(a.jti).not.toBe(b.jti);
    expect(first.split(".")[0]).toBe(segment(header()));
  });
});
