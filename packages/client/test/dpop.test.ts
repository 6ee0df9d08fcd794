import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeProtectedHeader, EmbeddedJWK, jwtVerify } from "jose";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createTokenClient,
  type DpopKeyStore,
  memoryKeyStore,
  type TokenClientError,
  type TokenClientOptions,
} from "../src/index.js";
import { fileKeyStore } from "../src/node.js";
import {
  memoryStorage,
  postStreamed,
  startTokenServer,
  type TestTokenServer,
} from "./support/token-server.js";

let server: TestTokenServer;
let directory: string;

beforeEach(async () => {
  server = await startTokenServer();
  directory = await mkdtemp(join(tmpdir(), "tokens-dpop-"));
});

afterEach(async () => {
  await server.close();
  await rm(directory, { recursive: true, force: true });
});

/** A body-mode client with DPoP on, over a key store the test can look into. */
function dpopClient(options: Partial<TokenClientOptions> = {}, keys = memoryKeyStore()) {
  const storage = memoryStorage();
  const failed: TokenClientError[] = [];
  const client = createTokenClient({
    baseUrl: server.url,
    transport: "body",
    storage,
    dpop: { keys },
    ...options,
  });
  client.on("refreshFailed", (error) => failed.push(error));
  return { client, keys, storage, failed };
}

const login = (client: ReturnType<typeof createTokenClient>) =>
  client.login({ username: "demo", password: "demo" });

const sha256 = (text: string) => createHash("sha256").update(text).digest("base64url");

/** The proofs the server accepted, verified once more here with jose alone. */
async function verified(route: string) {
  const proofs = server.proofs.filter((proof) => proof.route === route);
  return Promise.all(
    proofs.map(async ({ proof }) => {
      const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, {
        typ: "dpop+jwt",
        algorithms: ["ES256"],
      });
      return { header: protectedHeader, claims: payload };
    }),
  );
}

describe("DPoP proofs", () => {
  it("proves login, refresh, API calls and revocation with one key, and sends DPoP tokens", async () => {
    const { client } = dpopClient();
    const { accessToken } = await login(client);
    expect(server.logins).toHaveLength(1);

    const api = await client.fetch("/api/me?page=2#top", { method: "post" });
    expect(api.status).toBe(200);
    expect(server.authorizations).toEqual([`DPoP ${accessToken}`]);

    const refreshed = await client.refresh();
    expect(refreshed).not.toBe(accessToken);
    expect((await client.fetch("/api/me")).status).toBe(200);
    expect(server.authorizations.at(-1)).toBe(`DPoP ${refreshed}`);
    expect(await client.logout()).toBe(true);

    expect(server.proofs.map((proof) => [proof.route, proof.error])).toEqual([
      ["POST /auth/login", null],
      ["POST /api/me?page=2", null],
      ["POST /auth/token/refresh", null],
      ["GET /api/me", null],
      ["POST /auth/token/revoke", null],
    ]);
    const [loginProof] = await verified("POST /auth/login");
    const [apiProof] = await verified("POST /api/me?page=2");
    const [refreshProof] = await verified("POST /auth/token/refresh");
    const [revokeProof] = await verified("POST /auth/token/revoke");

    // The header names the public key, with the RFC 7638 members only: no private part.
    expect(Object.keys(loginProof?.header.jwk ?? {}).sort()).toEqual(["crv", "kty", "x", "y"]);
    expect(loginProof?.header).toMatchObject({ typ: "dpop+jwt", alg: "ES256" });
    expect(new Set(server.proofs.map((proof) => proof.jkt)).size).toBe(1);

    expect(loginProof?.claims).toMatchObject({ htm: "POST", htu: `${server.url}/auth/login` });
    expect(refreshProof?.claims).toMatchObject({
      htm: "POST",
      htu: `${server.url}/auth/token/refresh`,
    });
    expect(revokeProof?.claims).toMatchObject({ htu: `${server.url}/auth/token/revoke` });
    // Query and fragment are not part of htu; the method goes out as fetch normalises it.
    expect(apiProof?.claims).toMatchObject({
      htm: "POST",
      htu: `${server.url}/api/me`,
      ath: sha256(accessToken),
    });
    for (const proof of [loginProof, refreshProof, revokeProof]) {
      expect(proof?.claims).not.toHaveProperty("ath");
      expect(proof?.claims).not.toHaveProperty("nonce");
    }

    const claims = [loginProof, apiProof, refreshProof, revokeProof].map((proof) => proof?.claims);
    const jtis = claims.map((claim) => String(claim?.jti));
    expect(new Set(jtis).size).toBe(4);
    // At least 128 random bits: 22 base64url characters.
    for (const jti of jtis) expect(jti).toMatch(/^[\w-]{22,}$/);
    const now = Date.now() / 1000;
    for (const claim of claims) expect(Math.abs(Number(claim?.iat) - now)).toBeLessThan(30);
  });

  it("signs with a non-extractable private key", async () => {
    const { client, keys } = dpopClient();
    await login(client);
    const pair = await keys.load();
    expect(pair?.privateKey.extractable).toBe(false);
    expect(pair?.privateKey.algorithm).toMatchObject({ name: "ECDSA", namedCurve: "P-256" });
    await expect(crypto.subtle.exportKey("jwk", pair?.privateKey as CryptoKey)).rejects.toThrow();
    await expect(crypto.subtle.exportKey("pkcs8", pair?.privateKey as CryptoKey)).rejects.toThrow();
  });

  it("uses the scheme of the token_type: DPoP for bound tokens, Bearer for others", async () => {
    const plain = createTokenClient({
      baseUrl: server.url,
      transport: "body",
      storage: memoryStorage(server.issueRefreshToken()),
      dpop: { keys: memoryKeyStore() },
    });
    // A session started without DPoP: the refresh proves the key, so the new token is bound.
    const token = await plain.getAccessToken();
    expect(server.proofs.map((proof) => proof.route)).toEqual(["POST /auth/token/refresh"]);
    await plain.fetch("/api/me");
    expect(server.authorizations).toEqual([`DPoP ${token}`]);

    // A client without DPoP refuses a DPoP token_type: it could not use the token.
    const bearerOnly = createTokenClient({
      baseUrl: server.url,
      transport: "body",
      storage: memoryStorage(),
    });
    await expect(
      bearerOnly.setTokens({ access_token: token ?? "", token_type: "DPoP" }),
    ).rejects.toMatchObject({ code: "invalid_response" });
    await login(bearerOnly);
    expect(server.logins.at(-1)?.headers.dpop).toBeUndefined();
    await expect(
      plain.setTokens({ access_token: "at_elsewhere", token_type: "Bearer", expires_in: 60 }),
    ).resolves.toMatchObject({ accessToken: "at_elsewhere" });
    // Unknown to this server: refused, then retried with a refreshed (bound) token.
    expect((await plain.fetch("/api/me")).status).toBe(200);
    const sent = server.authorizations.slice(1);
    expect(sent).toEqual(["Bearer at_elsewhere", expect.stringMatching(/^DPoP at_/)]);
    // A proof went with the DPoP token only.
    const proven = server.proofs.filter((proof) => proof.route === "GET /api/me");
    expect(proven.map((proof) => proof.claims?.ath)).toEqual([
      sha256(String(token)),
      sha256(sent[1]?.slice("DPoP ".length) ?? ""),
    ]);
  });

  it("refreshes and retries after a DPoP invalid_token challenge, with a new proof", async () => {
    const { client } = dpopClient();
    const { accessToken } = await login(client);
    server.expireAccessTokens();
    const response = await client.fetch("/api/me");
    expect(response.status).toBe(200);
    expect(server.apiRejections).toBe(1);
    expect(server.rotations).toBe(1);
    const next = server.authorizations.at(-1)?.slice("DPoP ".length);
    expect(next).not.toBe(accessToken);
    const proofs = await verified("GET /api/me");
    expect(proofs.map((proof) => proof.claims.ath)).toEqual([
      sha256(accessToken),
      sha256(next ?? ""),
    ]);
  });

  it("a refresh token copied to another key is refused without harming the session", async () => {
    const { client, storage } = dpopClient();
    await login(client);
    const thief = dpopClient({}, memoryKeyStore());
    await thief.storage.set(storage.value ?? "");
    await expect(thief.client.getAccessToken()).rejects.toMatchObject({
      code: "invalid_dpop_proof",
      status: 400,
    });
    expect(thief.failed.map((error) => error.code)).toEqual(["invalid_dpop_proof"]);
    expect(thief.client.state).not.toBe("ended");
    // Not a reuse: the owner's refresh token still rotates.
    expect(await client.refresh()).toEqual(expect.any(String));
    expect(server.rotations).toBe(1);
  });
});

describe("DPoP nonces", () => {
  it("retries once with the nonce the server names, then sends it from the start", async () => {
    server.requiredNonce = "n-1";
    const { client } = dpopClient();
    await login(client);
    expect(server.logins).toHaveLength(2);
    const logins = server.proofs.filter((proof) => proof.route === "POST /auth/login");
    expect(logins.map((proof) => [proof.claims?.nonce, proof.error])).toEqual([
      [undefined, "nonce"],
      ["n-1", null],
    ]);

    // The origin's nonce is remembered: the refresh and the API call need no retry.
    await client.refresh();
    expect(await client.fetch("/api/me").then((response) => response.status)).toBe(200);
    expect(server.refreshes).toBe(1);
    expect(server.apiCalls).toBe(1);

    // The resource server moves on to a new nonce: one 401 use_dpop_nonce, one retry.
    server.requiredNonce = "n-2";
    expect(await client.fetch("/api/me").then((response) => response.status)).toBe(200);
    expect(server.apiCalls).toBe(3);
    const calls = server.proofs.filter((proof) => proof.route === "GET /api/me");
    expect(calls.map((proof) => proof.claims?.nonce)).toEqual(["n-1", "n-1", "n-2"]);
    expect(new Set(calls.map((proof) => proof.claims?.jti)).size).toBe(3);
  });

  it("never retries more than once when every answer names another nonce", async () => {
    server.requiredNonce = "n-0";
    server.rotateNonce = true;
    const { client, failed } = dpopClient();
    await expect(login(client)).rejects.toMatchObject({ code: "use_dpop_nonce", status: 400 });
    expect(server.logins).toHaveLength(2);

    server.rotateNonce = false;
    await login(client);
    server.rotateNonce = true;
    server.requiredNonce = "n-api";
    const response = await client.fetch("/api/me");
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toContain('error="use_dpop_nonce"');
    expect(server.apiCalls).toBe(2);

    server.requiredNonce = "n-refresh";
    await expect(client.refresh()).rejects.toMatchObject({ code: "use_dpop_nonce" });
    expect(server.refreshes).toBe(2);
    expect(failed.map((error) => error.code)).toEqual(["use_dpop_nonce"]);
    expect(client.state).toBe("active");
  });

  it("does not resend a streamed body to catch up with a nonce", async () => {
    const { client } = dpopClient();
    await login(client);
    server.requiredNonce = "n-1";
    const response = await postStreamed(client, "once");
    expect(response.status).toBe(401);
    expect(server.apiCalls).toBe(1);
    // The nonce is learnt all the same: the caller's own retry goes through.
    expect((await client.fetch("/api/echo", { method: "POST", body: "twice" })).status).toBe(200);
    expect(server.echoed).toEqual(["twice"]);
  });
});

describe("DPoP key stores", () => {
  it("one memory store: the first saved pair wins and clients sharing it sign with one key", async () => {
    const keys = memoryKeyStore();
    const first = dpopClient({}, keys);
    const second = dpopClient({}, keys);
    await Promise.all([login(first.client), login(second.client)]);
    const jkts = new Set(server.proofs.map((proof) => proof.jkt));
    expect(jkts.size).toBe(1);

    const pair = await keys.load();
    const spare = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
      "sign",
      "verify",
    ]);
    await keys.save(spare);
    expect(await keys.load()).toBe(pair);
  });

  it("a file keeps the key across restarts, owner-readable only, imported non-extractable", async () => {
    const path = join(directory, "keys", "dpop.json");
    const before = dpopClient({}, fileKeyStore(path));
    const { accessToken } = await login(before.client);
    const mode = (await stat(path)).mode & 0o777;
    expect(mode).toBe(0o600);
    expect((await stat(join(directory, "keys"))).mode & 0o077).toBe(0);
    const jwk = JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>;
    expect(Object.keys(jwk).sort()).toEqual(["crv", "d", "kty", "x", "y"]);

    // A new process: same file, same key; the session bound at login refreshes.
    const keys = fileKeyStore(path);
    const pair = await keys.load();
    expect(pair?.privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey("jwk", pair?.privateKey as CryptoKey)).rejects.toThrow();
    const after = createTokenClient({
      baseUrl: server.url,
      transport: "body",
      storage: before.storage,
      dpop: { keys },
    });
    const refreshed = await after.getAccessToken();
    expect(refreshed).not.toBe(accessToken);
    expect(server.rotations).toBe(1);
    expect(new Set(server.proofs.map((proof) => proof.jkt)).size).toBe(1);
    const [loginProof] = await verified("POST /auth/login");
    expect(loginProof?.header.jwk).toEqual({ kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y });
  });

  it("stores created at once in one file agree on one key", async () => {
    const path = join(directory, "dpop.json");
    const clients = Array.from({ length: 5 }, () => dpopClient({}, fileKeyStore(path)));
    await Promise.all(clients.map(({ client }) => login(client)));
    expect(new Set(server.proofs.map((proof) => proof.jkt)).size).toBe(1);
    const { x } = JSON.parse(await readFile(path, "utf8")) as { x: string };
    expect(decodeProtectedHeader(server.proofs[0]?.proof ?? "").jwk?.x).toBe(x);
  });

  it("reports a broken key store as storage_error and tries it again next time", async () => {
    const path = join(directory, "dpop.json");
    await writeFile(path, "not json", { mode: 0o600 });
    const { client } = dpopClient({}, fileKeyStore(path));
    await expect(login(client)).rejects.toMatchObject({ code: "storage_error" });
    expect(server.logins).toHaveLength(0);

    await writeFile(path, JSON.stringify({ kty: "EC", crv: "P-256", x: "AA", y: "AA" }));
    await expect(login(client)).rejects.toMatchObject({ code: "storage_error" });

    await rm(path);
    await expect(login(client)).resolves.toMatchObject({ accessToken: expect.any(String) });
  });

  it("rejects a key store that is not one", () => {
    const keys = { load: async () => undefined } as unknown as DpopKeyStore;
    expect(() => createTokenClient({ baseUrl: server.url, dpop: { keys } })).toThrow(
      expect.objectContaining({ code: "invalid_configuration" }),
    );
    expect(() => createTokenClient({ baseUrl: server.url, dpop: true })).not.toThrow();
  });
});
