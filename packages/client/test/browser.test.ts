import { existsSync } from "node:fs";
import { calculateJwkThumbprint, EmbeddedJWK, type JWK, jwtVerify } from "jose";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { bundleHarness, startPageServer } from "./browser/page-server.js";
import { type Backend, DEMO_SUBJECT, startBackend } from "./support/backend.js";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn(`SKIPPED: browser tests need ${CHROMIUM} (apt-get install -y chromium)`);

let browser: Browser;
let bundle: string;
let cleanup: Array<() => Promise<void>> = [];

beforeAll(async () => {
  if (!hasChromium) return;
  bundle = await bundleHarness();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
});

afterAll(async () => {
  await browser?.close();
});

afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

interface Site {
  backend: Backend;
  url: string;
  context: BrowserContext;
  /** Statuses the app answered on this path, in order. */
  statuses: (path: string) => number[];
}

/** The quickstart on one origin with the test page, and a fresh browser profile (cookie jar). */
async function site(config: { accessTokenTtl: number; reuseGrace: number }): Promise<Site> {
  const pages = await startPageServer(bundle);
  cleanup.push(() => pages.close());
  // Its issuer is this origin: cookie mode over plain http is allowed on loopback only.
  const backend = await startBackend(pages.url, config);
  pages.attach(backend.app);
  const context = await browser.newContext();
  cleanup.push(() => context.close());
  return {
    backend,
    url: pages.url,
    context,
    statuses: (path) =>
      pages.log.filter((entry) => entry.path === path).map((entry) => entry.status),
  };
}

/** One tab with the harness loaded and its client started (cookie mode, the default). */
async function openTab(target: Site, dpop = false): Promise<Page> {
  const page = await target.context.newPage();
  page.on("pageerror", (error) => console.error("page error:", error));
  await page.goto(target.url);
  await page.waitForFunction(() => window.harness !== undefined);
  await page.evaluate((on) => window.harness.start({ dpop: on }), dpop);
  return page;
}

/** `count` tabs; the first logs in and the others learn the access token from its broadcast. */
async function loggedInTabs(target: Site, count: number, dpop = false): Promise<Page[]> {
  const tabs: Page[] = [];
  for (let index = 0; index < count; index++) tabs.push(await openTab(target, dpop));
  await tabs[0]?.evaluate(() => window.harness.login());
  for (const tab of tabs) await tab.waitForFunction(() => window.harness.state() === "active");
  return tabs;
}

/** The HttpOnly refresh cookie, read from the browser's jar (as malware on the device could). */
async function refreshCookie(target: Site) {
  // Not filtered by the page's URL: the cookie is scoped to the /auth path.
  const cookies = await target.context.cookies();
  return cookies.find((cookie) => cookie.httpOnly && cookie.value.startsWith("tokens_rt_"));
}

const eventsOf = (page: Page, type: string) =>
  page.evaluate((wanted) => window.harness.events().filter((event) => event.type === wanted), type);

const me = { status: 200, body: expect.objectContaining({ sub: DEMO_SUBJECT }) };

// Skipped only where Chromium is not installed; bootstrap installs it and CI fails the run if
// this suite skips (scripts/test-summary.mjs, TOKENS_REQUIRE_SERVERS=1).
describe.skipIf(!hasChromium)("in Chromium against the quickstart", () => {
  it("logs in in cookie mode; page scripts cannot see the refresh token", async () => {
    const target = await site({ accessTokenTtl: 60, reuseGrace: 10 });
    const tab = await openTab(target);
    expect(await tab.evaluate(() => window.harness.features())).toEqual({
      locks: true,
      broadcast: true,
    });

    const login = await tab.evaluate(() => window.harness.login());
    expect(login.accessToken.split(".")).toHaveLength(3);
    const cookie = await refreshCookie(target);
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/auth/token" });
    const visible = await tab.evaluate(() => window.harness.cookie());
    expect(visible).not.toContain(cookie?.value);
    expect(visible).not.toContain(cookie?.name);
    expect(await tab.evaluate(() => window.harness.me())).toEqual(me);

    // A new page load has no access token in memory: it finds the session through the cookie.
    const reloaded = await openTab(target);
    expect(await reloaded.evaluate(() => window.harness.me())).toEqual(me);
    expect(target.statuses("/auth/token/refresh")).toEqual([200]);
  });

  it("refreshes an expired access token transparently during an API call", async () => {
    const probe = await site({ accessTokenTtl: 60, reuseGrace: 10 });
    // Without a movable server clock, expiry takes real time: keep the token short-lived then.
    const target = probe.backend.clock ? probe : await site({ accessTokenTtl: 1, reuseGrace: 10 });
    const tab = await openTab(target);
    const { accessToken } = await tab.evaluate(() => window.harness.login());
    await tab.evaluate(() => window.harness.freezeClock());

    // The server's clock passes the token's expiry; the page's clock does not: the API answers
    // 401 invalid_token and the client refreshes and retries once.
    await target.backend.expire(accessToken);
    expect(await tab.evaluate(() => window.harness.me())).toEqual(me);
    expect(target.statuses("/api/me")).toEqual([401, 200]);
    expect(target.statuses("/auth/token/refresh")).toEqual([200]);

    // When the page's clock says "about to expire", the client refreshes before calling: no 401.
    await tab.evaluate(() => window.harness.advancePastExpiry(-100));
    expect(await tab.evaluate(() => window.harness.me())).toEqual(me);
    expect(target.statuses("/api/me")).toEqual([401, 200, 200]);
    expect(target.statuses("/auth/token/refresh")).toEqual([200, 200]);
    expect(await eventsOf(tab, "sessionEnded")).toEqual([]);
  });

  it.each([
    ["bearer", false],
    ["DPoP", true],
  ])(
    "five tabs firing ten requests each at expiry refresh once, without reuse (%s)",
    async (_, dpop) => {
      // No grace at all: any tab presenting a spent refresh token would end the session. With
      // DPoP, a tab signing with another key than the session's would be refused as well.
      const target = await site({ accessTokenTtl: 60, reuseGrace: 0 });
      const tabs = await loggedInTabs(target, 5, dpop);
      expect(target.statuses("/auth/token/refresh")).toEqual([]);

      await Promise.all(tabs.map((tab) => tab.evaluate(() => window.harness.advancePastExpiry(0))));
      const statuses = await Promise.all(
        tabs.map((tab) => tab.evaluate(() => window.harness.burst(10))),
      );

      expect(statuses).toEqual(Array(5).fill(Array(10).fill(200)));
      expect(target.backend.reuseDetections()).toBe(0);
      expect(target.backend.rotations()).toBe(1);
      expect(target.statuses("/auth/token/refresh")).toEqual([200]);
      expect(await target.backend.liveSessions()).toBe(1);
      expect(await target.backend.boundSessions()).toBe(dpop ? 1 : 0);
      for (const tab of tabs) {
        expect(await eventsOf(tab, "sessionEnded")).toEqual([]);
        expect(await tab.evaluate(() => window.harness.state())).toBe("active");
      }
    },
  );

  it("logging out in one tab revokes the session and ends it in every tab", async () => {
    const target = await site({ accessTokenTtl: 60, reuseGrace: 10 });
    const tabs = await loggedInTabs(target, 3);
    expect(await tabs[2]?.evaluate(() => window.harness.logout())).toBe(true);

    expect(target.statuses("/auth/token/revoke")).toEqual([200]);
    expect(await target.backend.liveSessions()).toBe(0);
    expect(await refreshCookie(target)).toBeUndefined();
    const sources = await Promise.all(
      tabs.map(async (tab) => (await eventsOf(tab, "sessionEnded")).map((event) => event.detail)),
    );
    expect(sources).toEqual([
      [{ error: "logout", source: "other-tab" }],
      [{ error: "logout", source: "other-tab" }],
      [{ error: "logout", source: "logout" }],
    ]);
    // Ended tabs send no token and do not try to refresh.
    expect(await tabs[0]?.evaluate(() => window.harness.burst(2))).toEqual([401, 401]);
    expect(target.statuses("/auth/token/refresh")).toEqual([]);
  });

  it("a stolen refresh token used after the grace window ends the session in every tab", async () => {
    const target = await site({ accessTokenTtl: 60, reuseGrace: 1 });
    const tabs = await loggedInTabs(target, 5);

    // Malware copies the cookie and rotates it first, from elsewhere.
    const stolen = await refreshCookie(target);
    const thief = await fetch(`${target.url}/auth/token/refresh`, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: stolen?.value ?? "",
      }),
    });
    expect(thief.status).toBe(200);
    const thiefPair = (await thief.json()) as { refresh_token: string };

    // Past the grace window, every tab's access token expires and they all need a refresh.
    await target.backend.elapse(2);
    await Promise.all(tabs.map((tab) => tab.evaluate(() => window.harness.advancePastExpiry(0))));
    const statuses = await Promise.all(
      tabs.map((tab) => tab.evaluate(() => window.harness.burst(3))),
    );
    expect(statuses).toEqual(Array(5).fill(Array(3).fill(401)));

    // One tab presented the spent token and learnt why; the others learnt it from that tab.
    const reasons = (await Promise.all(tabs.map((tab) => eventsOf(tab, "sessionEnded")))).map(
      (events) => {
        expect(events).toHaveLength(1);
        return events[0]?.detail;
      },
    );
    const local = reasons.filter((reason) => reason?.source === "refresh");
    expect(local).toEqual([
      {
        error: "invalid_grant",
        error_description: expect.stringMatching(/already used/),
        status: 400,
        source: "refresh",
      },
    ]);
    expect(reasons.filter((reason) => reason?.source === "other-tab")).toEqual(
      Array(4).fill({
        error: "invalid_grant",
        error_description: local[0]?.error_description,
        source: "other-tab",
      }),
    );
    for (const tab of tabs) expect(await tab.evaluate(() => window.harness.state())).toBe("ended");

    expect(target.backend.reuseDetections()).toBe(1);
    expect(target.statuses("/auth/token/refresh")).toEqual([200, 400]); // the thief's, then the tab's
    expect(await target.backend.liveSessions()).toBe(0);
    expect(await refreshCookie(target)).toBeUndefined();
    // The thief's successor died with the session.
    const replay = await fetch(`${target.url}/auth/token/refresh`, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: thiefPair.refresh_token,
      }),
    });
    expect(replay.status).toBe(400);
  });
});

describe.skipIf(!hasChromium)("DPoP key in Chromium's IndexedDB", () => {
  /** The thumbprint of the key a proof was made with, after verifying it with jose. */
  async function keyOf(proof: string, url: string) {
    const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, {
      typ: "dpop+jwt",
      algorithms: ["ES256"],
    });
    expect(payload).toMatchObject({ htm: "GET", htu: url });
    expect(Object.keys(protectedHeader.jwk ?? {}).sort()).toEqual(["crv", "kty", "x", "y"]);
    return calculateJwkThumbprint(protectedHeader.jwk as JWK);
  }

  it("five tabs opening at once share one non-extractable key, kept across reloads", async () => {
    const target = await site({ accessTokenTtl: 60, reuseGrace: 10 });
    const tabs = await Promise.all(Array.from({ length: 5 }, () => openTab(target)));
    expect(await tabs[0]?.evaluate(() => window.harness.dpopKey())).toBeNull();

    const url = `${target.url}/api/me`;
    const proofs = await Promise.all(
      tabs.map((tab) => tab.evaluate((at) => window.harness.dpopProof(at), url)),
    );
    const keys = await Promise.all(proofs.map((proof) => keyOf(proof, url)));
    expect(new Set(keys).size).toBe(1);

    // Page scripts can sign with it, never read it out.
    const stored = await tabs[3]?.evaluate(() => window.harness.dpopKey());
    expect(stored).toMatchObject({
      privateType: "private",
      extractable: false,
      exportRefused: true,
    });
    expect(await calculateJwkThumbprint(stored?.publicJwk as JWK)).toBe(keys[0]);

    const [first] = tabs as [Page];
    await first.reload();
    await first.waitForFunction(() => window.harness !== undefined);
    const again = await first.evaluate((at) => window.harness.dpopProof(at), url);
    expect(await keyOf(again, url)).toBe(keys[0]);
    expect(again).not.toBe(proofs[0]);
  });

  it("without the Web Lock, concurrent first saves still leave every tab one pair", async () => {
    const target = await site({ accessTokenTtl: 60, reuseGrace: 10 });
    const tabs = await Promise.all(Array.from({ length: 5 }, () => openTab(target)));
    const stored = await Promise.all(
      tabs.map((tab) => tab.evaluate(() => window.harness.racePairSave("tokens-race"))),
    );
    expect(stored[0]).toEqual(expect.any(String));
    expect(new Set(stored).size).toBe(1);
  });
});
