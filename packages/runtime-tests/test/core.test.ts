import { beforeAll, describe, expect, it } from "vitest";
import {
  binaries,
  bundleWorker,
  denoRun,
  fixture,
  requireBuilt,
  runJson,
  startWorkerd,
} from "./runtimes.js";

/** What the JWK set shows for each algorithm: public keys only, never a symmetric secret. */
const PUBLISHED_KEY = {
  EdDSA: { count: 1, kid: "key-EdDSA", kty: "OKP", crv: "Ed25519", hasPrivatePart: false },
  ES256: { count: 1, kid: "key-ES256", kty: "EC", crv: "P-256", hasPrivatePart: false },
  RS256: { count: 1, kid: "key-RS256", kty: "RSA", crv: undefined, hasPrivatePart: false },
  HS256: { count: 0, kid: undefined, kty: undefined, crv: undefined, hasPrivatePart: false },
};

/**
 * The core lifecycle (fixtures/core-scenario.js) run by each runtime against the built
 * packages, then checked here: the same outcome everywhere is the portability claim.
 */
function expectScenario(result: Record<string, unknown>, runtime: string, module: string) {
  expect(result.runtime).toBe(runtime);
  expect(result.module).toBe(module);
  const results = result.results as Array<Record<string, unknown>>;
  expect(results.map((r) => r.alg)).toEqual(["EdDSA", "ES256", "RS256", "HS256"]);
  for (const r of results) {
    const rejected = (reason: string, name: string, code: string) => ({
      rejected: true,
      name,
      code,
      reason,
      isTokensError: true,
      isInvalidGrant: name === "InvalidGrantError",
      isInvalidToken: name === "InvalidTokenError",
    });
    expect(r.header).toEqual({ alg: r.alg, typ: "at+jwt", kid: `key-${r.alg}` });
    expect(r.claims).toEqual({
      iss: "https://auth.example.test",
      sub: "alice",
      aud: "https://api.example.test",
      role: "admin",
      sid: r.sessionId,
      client_id: "default",
    });
    expect(r.refreshTokenPrefix).toBe("tokens_rt_");
    expect(r.tokenType).toBe("Bearer");
    expect(r.expiresIn).toBe(900);
    expect(r.rotated).toBe(true);
    expect(r.rotatedSession).toBe(r.sessionId);
    expect(r.graceReturnsLiveSuccessor).toBe(true);
    expect(r.reused).toEqual(rejected("reused", "InvalidGrantError", "invalid_grant"));
    expect(r.liveAfterReuse).toEqual(rejected("revoked", "InvalidGrantError", "invalid_grant"));
    expect(r.accessAfterReuse).toEqual(rejected("revoked", "InvalidTokenError", "invalid_token"));
    expect(r.sessionsBeforeRevoke).toBe(1);
    expect(r.sessionsAfterRevoke).toBe(0);
    expect(r.afterRevoke).toEqual(rejected("revoked", "InvalidGrantError", "invalid_grant"));
    expect(r.tampered).toEqual(rejected("invalid_signature", "InvalidTokenError", "invalid_token"));
    expect(r.malformed).toEqual(rejected("malformed", "InvalidGrantError", "invalid_grant"));
    expect(r.wrongType).toEqual(rejected("malformed", "InvalidRequestError", "invalid_request"));
    expect(r.jwks).toEqual(PUBLISHED_KEY[r.alg as keyof typeof PUBLISHED_KEY]);
    expect(r.webCryptoVerifies).toBe(true);
    expect(r.events).toEqual([
      "session_created",
      "token_rotated",
      "grace_replay",
      "reuse_detected",
      "session_revoked",
      "session_created",
      "session_revoked",
    ]);
  }
}

describe("core + memory store on the built packages", () => {
  beforeAll(() => requireBuilt(["core", "memory"]));

  it("runs in Node (ESM build)", async () => {
    const result = await runJson(binaries.node, [fixture("core-main.js")]);
    expectScenario(result, "node", "esm");
  });

  it("runs in Node (CommonJS build)", async () => {
    const result = await runJson(binaries.node, [fixture("core-main.cjs")]);
    expectScenario(result, "node", "cjs");
  });

  it("runs in Bun", async () => {
    const result = await runJson(binaries.bun, ["run", fixture("core-main.js")]);
    expectScenario(result, "bun", "esm");
  });

  it("runs in Deno (no permissions granted)", async () => {
    const result = await runJson(binaries.deno, [...denoRun, fixture("core-main.js")]);
    expectScenario(result, "deno", "esm");
  });

  it("runs in workerd (esbuild bundle)", async () => {
    const server = await startWorkerd(await bundleWorker(fixture("core-worker.js")));
    try {
      const response = await fetch(server.url);
      expect(response.status).toBe(200);
      expectScenario((await response.json()) as Record<string, unknown>, "workerd", "bundle");
    } finally {
      await server.stop();
    }
  });
});
