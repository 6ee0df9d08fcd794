/*
 * Runs inside Chromium: bundled with the client by esbuild and loaded by the test page. The
 * tests drive it through `window.harness`.
 */
import {
  createTokenClient,
  indexedDbKeyStore,
  type TokenClient,
  TokenClientError,
  type TokenClientOptions,
} from "../../src/index.js";
import { createDpopSigner } from "../../src/internal/dpop.js";
import { generateDpopKeyPair } from "../../src/internal/dpop-key.js";

interface Recorded {
  type: "refreshed" | "sessionEnded" | "refreshFailed";
  detail: Record<string, unknown>;
}

let client: TokenClient | null = null;
let clockOffset = 0;
let frozenAt: number | null = null;
const events: Recorded[] = [];

function latestExpiry(): number | null {
  const last = [...events].reverse().find((event) => event.type === "refreshed");
  return last ? (last.detail.expiresAt as number) : null;
}

function current(): TokenClient {
  if (!client) throw new Error("harness.start() first");
  return client;
}

const harness = {
  /** Create this tab's client; its clock is the page's plus an offset tests move forward. */
  start(options: Omit<TokenClientOptions, "now" | "fetch" | "storage"> = {}) {
    client = createTokenClient({ ...options, now: () => frozenAt ?? Date.now() + clockOffset });
    client.on("refreshed", (event) => events.push({ type: "refreshed", detail: { ...event } }));
    client.on("sessionEnded", (event) =>
      events.push({ type: "sessionEnded", detail: { ...event } }),
    );
    client.on("refreshFailed", (error) =>
      events.push({ type: "refreshFailed", detail: { code: error.code } }),
    );
  },
  /** Stop this tab's clock, so the server's alone moves on. */
  freezeClock() {
    frozenAt = Date.now() + clockOffset;
  },
  /** Set this tab's clock to `at` ms after its access token expires (negative: before); it runs again. */
  advancePastExpiry(at: number) {
    const expiresAt = latestExpiry();
    if (expiresAt === null) throw new Error("no access token yet");
    frozenAt = null;
    clockOffset = expiresAt - Date.now() + at;
  },
  async login(username = "demo", password = "demo") {
    const result = await current().login({ username, password });
    return { accessToken: result.accessToken, expiresAt: result.expiresAt };
  },
  /** Fire `count` API calls at once; resolves their statuses (or error codes). */
  async burst(count: number, path = "/api/me") {
    const settled = await Promise.allSettled(
      Array.from({ length: count }, () => current().fetch(path)),
    );
    return settled.map((outcome) => {
      if (outcome.status === "fulfilled") return outcome.value.status;
      const reason = outcome.reason;
      return reason instanceof TokenClientError ? reason.code : String(reason);
    });
  },
  async me() {
    const response = await current().fetch("/api/me");
    return { status: response.status, body: await response.json().catch(() => null) };
  },
  token: () => current().getAccessToken(),
  refresh: () => current().refresh(),
  logout: () => current().logout(),
  state: () => current().state,
  events: () => events,
  cookie: () => document.cookie,
  /** A proof from the default key store (the client's own signer), for `url`. */
  async dpopProof(url: string) {
    let sent = "";
    await createDpopSigner(indexedDbKeyStore()).exchange(
      { method: "GET", url: new URL(url) },
      async (proof) => {
        sent = proof;
        return { headers: new Headers() };
      },
      () => false,
    );
    return sent;
  },
  /** What page scripts can do with the stored key pair. */
  async dpopKey() {
    const pair = await indexedDbKeyStore().load();
    if (!pair) return null;
    return {
      privateType: pair.privateKey.type,
      extractable: pair.privateKey.extractable,
      exportRefused: await crypto.subtle.exportKey("jwk", pair.privateKey).then(
        () => false,
        () => true,
      ),
      publicJwk: await crypto.subtle.exportKey("jwk", pair.publicKey),
    };
  },
  /** Save a new pair straight into `database` (no Web Lock) and report which pair is stored. */
  async racePairSave(database: string) {
    const store = indexedDbKeyStore({ database });
    const mine = await generateDpopKeyPair(false);
    await store.save(mine);
    const stored = await store.load();
    if (!stored) throw new Error("nothing stored");
    return (await crypto.subtle.exportKey("jwk", stored.publicKey)).x;
  },
  features: () => ({
    locks: "locks" in navigator,
    broadcast: typeof BroadcastChannel === "function",
  }),
};

export type Harness = typeof harness;

declare global {
  interface Window {
    harness: Harness;
  }
}

window.harness = harness;
