/*
 * The shipped demo page (its script bundled with @tokens/client by the example's build) in real
 * Chromium tabs against a real loopback server: one refresh per expiry for every tab, logout
 * reaching every tab, no failing request for a logged-out visitor, DPoP proofs from one
 * non-extractable key that survives reloads, and a page that reads well.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import type { TokensEvent } from "@tokens/core";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createQuickstart, type Quickstart, type QuickstartOptions } from "../src/index.js";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn(`SKIPPED: quickstart browser tests need ${CHROMIUM} (apt-get install -y chromium)`);

const SCREENSHOT = new URL("../../../test-results/quickstart-page.png", import.meta.url);

describe.runIf(hasChromium)("quickstart page in Chromium", () => {
  let server: Server;
  let base: string;
  let browser: Browser;
  let quickstart: Quickstart;
  /** Every answer of the server, in order. */
  let log: Array<{ method: string; path: string; status: number }> = [];
  let events: TokensEvent[] = [];
  let contexts: BrowserContext[] = [];
  /** While set, refresh answers wait for it: lets a test see the other tabs queue up. */
  let refreshGate: Promise<void> | null = null;

  beforeAll(async () => {
    server = createAdaptorServer({
      fetch: async (request, env) => {
        if (refreshGate && new URL(request.url).pathname === "/auth/token/refresh") {
          await refreshGate;
        }
        const response = await quickstart.app.fetch(request, env);
        const url = new URL(request.url);
        log.push({
          method: request.method,
          path: url.pathname + url.search,
          status: response.status,
        });
        return response;
      },
    }) as Server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    // http://localhost, as the quickstart runs by default: the development cookie without Secure.
    base = `http://localhost:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
  });
  afterEach(async () => {
    for (const context of contexts) await context.close();
    contexts = [];
  });
  afterAll(async () => {
    await browser?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  /** A fresh server state and a fresh browser profile (cookie jar). */
  async function start(options: Omit<QuickstartOptions, "issuer"> = {}): Promise<BrowserContext> {
    log = [];
    events = [];
    quickstart = await createQuickstart({
      issuer: base,
      onEvent: (event) => void events.push(event),
      ...options,
    });
    const context = await browser.newContext();
    contexts.push(context);
    return context;
  }

  /** Statuses the server answered on `path`, in order. */
  const statuses = (path: string) =>
    log.filter((entry) => entry.path === path).map((entry) => entry.status);
  const state = (page: Page) => page.evaluate(() => document.body.dataset.state);
  const status = (page: Page) => page.locator("#status").textContent();
  const expiresAt = async (page: Page) =>
    Number(await page.locator("#status").getAttribute("data-expires-at"));

  /** A tab on the page; fails the test on a page error or a console error (a failed load too). */
  async function openTab(context: BrowserContext): Promise<Page> {
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console error: ${message.text()}`);
    });
    page.on("response", (response) => {
      if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
    });
    page.on("requestfailed", (request) => problems.push(`failed: ${request.url()}`));
    pageProblems.set(page, problems);
    const sent: Array<Promise<Sent>> = [];
    page.on("request", (request) => {
      const { pathname } = new URL(request.url());
      const method = request.method();
      sent.push(request.allHeaders().then((headers) => ({ method, path: pathname, headers })));
    });
    pageRequests.set(page, sent);
    await page.goto(`${base}/`);
    await expect.poll(() => state(page)).not.toBe("loading");
    return page;
  }
  const pageProblems = new Map<Page, string[]>();
  const problemsOf = (pages: Page[]) => pages.flatMap((page) => pageProblems.get(page) ?? []);
  /** What the pages' requests carried, as the browser sent them (path without the query). */
  interface Sent {
    method: string;
    path: string;
    headers: Record<string, string>;
  }
  const pageRequests = new Map<Page, Array<Promise<Sent>>>();
  const sentBy = async (pages: Page[], path: string) =>
    (await Promise.all(pages.flatMap((page) => pageRequests.get(page) ?? []))).filter(
      (request) => request.path === path,
    );

  /** A DPoP proof's header and claims (the server verified the signature). */
  const proofOf = (request: Sent) => {
    const [header = "", claims = ""] = (request.headers.dpop ?? "").split(".");
    const decode = (part: string) =>
      JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as Record<string, unknown>;
    return { header: decode(header), claims: decode(claims) };
  };
  /** The public key a proof names, as a string to compare. */
  const keyOf = (request: Sent) => {
    const { jwk } = proofOf(request).header as { jwk: Record<string, string> };
    return JSON.stringify([jwk.kty, jwk.crv, jwk.x, jwk.y]);
  };

  /** The page's DPoP key pair as stored in IndexedDB, and what page scripts can do with it. */
  const storedKey = (page: Page) =>
    page.evaluate(async () => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const opening = indexedDB.open("tokens-dpop");
        opening.onsuccess = () => resolve(opening.result);
        opening.onerror = () => reject(opening.error);
      });
      const pair = await new Promise<CryptoKeyPair>((resolve, reject) => {
        const reading = db.transaction("tokens-keys").objectStore("tokens-keys").get("dpop");
        reading.onsuccess = () => resolve(reading.result as CryptoKeyPair);
        reading.onerror = () => reject(reading.error);
      });
      db.close();
      const jwk = await crypto.subtle.exportKey("jwk", pair.publicKey);
      return {
        extractable: pair.privateKey.extractable,
        usages: pair.privateKey.usages,
        exported: await crypto.subtle.exportKey("jwk", pair.privateKey).then(
          () => "exported",
          (error: Error) => error.name,
        ),
        key: JSON.stringify([jwk.kty, jwk.crv, jwk.x, jwk.y]),
      };
    });

  async function logIn(page: Page): Promise<void> {
    await page.click("#login button");
    await expect.poll(() => state(page)).toBe("active");
  }

  /** Waits, in the page, until its access token has expired. */
  async function pastExpiry(page: Page): Promise<void> {
    const at = await expiresAt(page);
    await page.waitForFunction((deadline) => Date.now() > deadline, at, { timeout: 30_000 });
  }

  it("shows a logged-out visitor the login form without a single failing request", async () => {
    const context = await start();
    const page = await openTab(context);
    expect(await state(page)).toBe("none");
    expect(await status(page)).toBe("Not logged in.");
    expect(await page.locator("#login").isVisible()).toBe(true);
    expect(await page.locator("#session").isVisible()).toBe(false);
    expect(log.filter((entry) => entry.path.startsWith("/auth"))).toEqual([]);
    expect(log.every((entry) => entry.status === 200)).toBe(true);
    expect(problemsOf([page])).toEqual([]);
  });

  it("drops a session hint left without its refresh cookie after one refused refresh", async () => {
    const context = await start();
    await context.addCookies([{ name: "tokens_session", value: "1", url: base }]);
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await expect.poll(() => state(page)).toBe("ended");
    expect(statuses("/auth/token/refresh")).toEqual([400]);
    expect(await context.cookies()).toEqual([]);
    await page.reload();
    await expect.poll(() => state(page)).toBe("none");
    expect(statuses("/auth/token/refresh")).toEqual([400]);
  });

  // Five expiry cycles of a 3 s access token, in real time.
  it("gives five tabs one refresh per expiry, tells which tab refreshed, and logs them all out", {
    timeout: 120_000,
  }, async () => {
    const context = await start({ accessTokenTtl: 3 });
    const tabs: Page[] = [];
    for (let index = 0; index < 5; index++) tabs.push(await openTab(context));
    const [first, second] = tabs as [Page, Page];

    // One tab logs in; the others learn of it from the client's broadcast, without a request.
    await logIn(first);
    for (const tab of tabs) {
      await expect.poll(() => status(tab)).toMatch(/^Logged in as demo, session \S+, access/);
    }
    const session = (await status(first))?.match(/session (\S+),/)?.[1];
    expect(session).toBeDefined();

    const cycles = 5;
    for (let cycle = 1; cycle <= cycles; cycle++) {
      const before = await expiresAt(first);
      await pastExpiry(first);
      // Every tab calls the API with the expired token; the refresh is held until all of them
      // wait: one tab for the answer, four for that tab's lock.
      let release = () => {};
      refreshGate = new Promise((resolve) => {
        release = resolve;
      });
      await Promise.all(tabs.map((tab) => tab.click("#me")));
      for (const tab of tabs) {
        await expect.poll(() => tab.evaluate(() => document.body.dataset.pending)).toBe("1");
      }
      release();
      refreshGate = null;
      for (const tab of tabs) {
        await expect.poll(() => expiresAt(tab)).toBeGreaterThan(before);
        await expect.poll(() => tab.locator("#output").textContent()).toMatch(/^GET \/api\/me → /);
      }
      expect(statuses("/auth/token/refresh")).toEqual(Array(cycle).fill(200));
    }
    await expect.poll(() => statuses("/api/me").length).toBe(cycles * 5);
    expect(new Set(statuses("/api/me"))).toEqual(new Set([200]));
    const kinds = events.map((event) => event.type);
    expect(kinds.filter((kind) => kind === "token_rotated")).toHaveLength(cycles);
    expect(kinds).not.toContain("grace_replay");
    expect(kinds).not.toContain("reuse_detected");
    expect(kinds).not.toContain("session_revoked");
    expect((await quickstart.tokens.listSessions("user_demo")).map((s) => s.id)).toEqual([session]);

    // With DPoP on, every tab signs with the one key in IndexedDB: the bound session's single
    // refresh per expiry may come from any tab, and every API call proves that key.
    const refreshes = await sentBy(tabs, "/auth/token/refresh");
    expect(refreshes).toHaveLength(cycles);
    const calls = await sentBy(tabs, "/api/me");
    expect(calls).toHaveLength(cycles * 5);
    for (const call of calls) expect(call.headers.authorization).toMatch(/^DPoP /);
    const keys = new Set([...refreshes, ...calls].map(keyOf));
    expect(keys).toEqual(new Set([(await storedKey(second)).key]));

    // The live view: one refresh per cycle, named in every tab; the other tabs waited for it.
    const activity = await Promise.all(
      tabs.map((tab) => tab.locator("#activity li").allTextContents()),
    );
    const ownRefreshes = activity.flat().filter((line) => /\(this tab\): refreshed/.test(line));
    expect(ownRefreshes).toHaveLength(cycles);
    for (const lines of activity) {
      expect(lines.filter((line) => /: refreshed the access token/.test(line))).toHaveLength(
        cycles,
      );
    }
    expect(
      activity.flat().filter((line) => /waited for the other tab's refresh/.test(line)),
    ).toHaveLength(cycles * 4);

    // A logout in one tab: every tab shows the session ended within a second, asking no server.
    const requestsBefore = log.length;
    await second.click("#logout");
    await Promise.all(
      tabs.map((tab) =>
        tab.waitForFunction(() => document.body.dataset.state === "ended", undefined, {
          timeout: 1_000,
        }),
      ),
    );
    for (const tab of tabs) expect(await status(tab)).toBe("Session ended (logged out).");
    await expect.poll(() => log.length).toBe(requestsBefore + 1);
    expect(log.at(-1)).toMatchObject({ path: "/auth/token/revoke", status: 200 });
    expect(await context.cookies()).toEqual([]);
    expect(await quickstart.tokens.listSessions("user_demo")).toEqual([]);
    expect(problemsOf(tabs)).toEqual([]);
  });

  it("continues the session after a reload and after reopening once the token expired", async () => {
    const context = await start({ accessTokenTtl: 2 });
    const page = await openTab(context);
    await logIn(page);
    const session = (await status(page))?.match(/session (\S+),/)?.[1];

    const cookies = await context.cookies();
    const refresh = cookies.find((cookie) => cookie.name === "tokens_rt");
    expect(refresh).toMatchObject({ path: "/auth/token", httpOnly: true, sameSite: "Strict" });
    expect(cookies.find((cookie) => cookie.name === "tokens_session")).toMatchObject({
      value: "1",
      path: "/",
      httpOnly: false,
    });
    expect(await page.evaluate(() => document.cookie)).toBe("tokens_session=1");

    // A reload forgets the in-memory access token; the cookie gets a new one.
    await page.reload();
    await expect.poll(() => state(page)).toBe("active");
    expect(await status(page)).toContain(`session ${session},`);
    expect(statuses("/auth/token/refresh")).toEqual([200]);

    // Every tab closed until the access token expired, then the page opened again.
    const expired = await expiresAt(page);
    await page.close();
    await expect.poll(() => Date.now() > expired, { timeout: 10_000 }).toBe(true);
    const reopened = await openTab(context);
    await expect.poll(() => state(reopened)).toBe("active");
    expect(await status(reopened)).toContain(`session ${session},`);
    expect(await expiresAt(reopened)).toBeGreaterThan(expired);
    expect(statuses("/auth/token/refresh")).toEqual([200, 200]);

    // The API answers through the client, which attached the new token.
    await reopened.click("#me");
    await expect.poll(() => reopened.locator("#output").textContent()).toContain('"sid": "');
    expect(problemsOf([page, reopened])).toEqual([]);
  });

  it("proves refreshes and API calls with a non-extractable key that survives a reload", async () => {
    // Required: a session without a proof (or a token without one) would be refused.
    const context = await start({ accessTokenTtl: 60, dpop: { policy: "required" } });
    const page = await openTab(context);
    await logIn(page);
    const session = (await status(page))?.match(/session (\S+),/)?.[1];
    await page.click("#me");
    await expect.poll(() => page.locator("#output").textContent()).toMatch(/^GET \/api\/me → 200/);

    // The key the page signs with: in IndexedDB, usable for signing, never exportable.
    const stored = await storedKey(page);
    expect(stored).toMatchObject({
      extractable: false,
      usages: ["sign"],
      exported: "InvalidAccessError",
    });

    const [login] = await sentBy([page], "/auth/login");
    const [call] = await sentBy([page], "/api/me");
    if (!login || !call) throw new Error("the page sent no login or API call");
    expect(proofOf(login)).toMatchObject({
      header: { typ: "dpop+jwt", alg: "ES256" },
      claims: { htm: "POST", htu: `${base}/auth/login` },
    });
    const accessToken = call.headers.authorization?.replace(/^DPoP /, "") ?? "";
    expect(accessToken.split(".")).toHaveLength(3);
    expect(proofOf(call).claims).toMatchObject({
      htm: "GET",
      htu: `${base}/api/me`,
      ath: createHash("sha256").update(accessToken).digest("base64url"),
    });
    expect(Object.keys(proofOf(call).header.jwk as object).sort()).toEqual([
      "crv",
      "kty",
      "x",
      "y",
    ]);
    expect(keyOf(login)).toBe(stored.key);
    expect(keyOf(call)).toBe(stored.key);

    // A reload: the access token is gone from memory, the key is not; the refresh proves it.
    await page.reload();
    await expect.poll(() => state(page)).toBe("active");
    expect(await status(page)).toContain(`session ${session},`);
    expect(statuses("/auth/token/refresh")).toEqual([200]);
    const [refresh] = await sentBy([page], "/auth/token/refresh");
    if (!refresh) throw new Error("the reloaded page did not refresh");
    expect(proofOf(refresh).claims).toMatchObject({
      htm: "POST",
      htu: `${base}/auth/token/refresh`,
    });
    expect(proofOf(refresh).claims).not.toHaveProperty("ath");
    expect(keyOf(refresh)).toBe(stored.key);
    expect((await storedKey(page)).key).toBe(stored.key);

    await page.click("#me");
    await expect.poll(() => page.locator("#output").textContent()).toMatch(/^GET \/api\/me → 200/);
    const afterReload = (await sentBy([page], "/api/me")).at(-1);
    if (!afterReload) throw new Error("no API call after the reload");
    expect(afterReload.headers.authorization).toMatch(/^DPoP /);
    expect(afterReload.headers.authorization).not.toBe(call.headers.authorization);
    expect(keyOf(afterReload)).toBe(stored.key);
    const jtis = [login, call, refresh, afterReload].map((request) => proofOf(request).claims.jti);
    expect(new Set(jtis).size).toBe(4);
    expect(problemsOf([page])).toEqual([]);
  });

  it("refuses the refresh cookie copied into another browser, whose key differs", async () => {
    const context = await start({ dpop: { policy: "required" } });
    const page = await openTab(context);
    await logIn(page);
    const session = (await status(page))?.match(/session (\S+),/)?.[1];

    // Malware copies the cookies (the HttpOnly refresh cookie too) into a profile of its own.
    const thief = await browser.newContext();
    contexts.push(thief);
    await thief.addCookies(await context.cookies());
    const stolen = await thief.newPage();
    const refused = stolen.waitForResponse((response) =>
      response.url().endsWith("/auth/token/refresh"),
    );
    await stolen.goto(`${base}/`);
    const answer = await refused;
    expect(answer.status()).toBe(400);
    expect(await answer.json()).toMatchObject({ error: "invalid_dpop_proof" });
    // It did prove a key: its own, not the one the session is bound to.
    const attempt = { method: "POST", path: "", headers: await answer.request().allHeaders() };
    expect(attempt.headers.dpop).toBeDefined();
    expect(keyOf(attempt)).not.toBe((await storedKey(page)).key);
    await expect.poll(() => state(stolen)).not.toBe("active");

    // Not a reuse: the owner's session lives on, and its next refresh rotates as usual.
    expect(events.map((event) => event.type)).not.toContain("reuse_detected");
    await page.reload();
    await expect.poll(() => state(page)).toBe("active");
    expect(await status(page)).toContain(`session ${session},`);
    expect(statuses("/auth/token/refresh")).toEqual([400, 200]);
  });

  it("picks up the server's DPoP nonce with one retry and sends it from then on", async () => {
    const context = await start({ dpop: { policy: "required", requireNonce: true } });
    const page = await openTab(context);
    await logIn(page);
    // The first login proof had no nonce: refused once with use_dpop_nonce, then accepted.
    expect(statuses("/auth/login")).toEqual([400, 200]);
    const logins = await sentBy([page], "/auth/login");
    const nonce = proofOf(logins[1] as Sent).claims.nonce;
    expect(logins.map((request) => proofOf(request).claims.nonce)).toEqual([undefined, nonce]);
    expect(nonce).toEqual(expect.any(String));

    // The page remembers the origin's nonce: its API call needs no retry.
    const me = async () => {
      await page.evaluate(() => {
        (document.getElementById("output") as HTMLElement).textContent = "";
      });
      await page.click("#me");
      await expect
        .poll(() => page.locator("#output").textContent())
        .toMatch(/^GET \/api\/me → 200/);
    };
    await me();
    expect(statuses("/api/me")).toEqual([200]);
    expect(proofOf((await sentBy([page], "/api/me"))[0] as Sent).claims.nonce).toBe(nonce);

    // A reload starts without one: the refresh is refused once, then proven with the nonce;
    // the API call after it carries that nonce from the start.
    await page.reload();
    await expect.poll(() => state(page)).toBe("active");
    expect(statuses("/auth/token/refresh")).toEqual([400, 200]);
    await me();
    expect(statuses("/api/me")).toEqual([200, 200]);
    const refreshes = await sentBy([page], "/auth/token/refresh");
    const [, retried] = refreshes.map((request) => proofOf(request).claims.nonce);
    expect(refreshes.map((request) => proofOf(request).claims.nonce)).toEqual([undefined, retried]);
    expect(proofOf((await sentBy([page], "/api/me"))[1] as Sent).claims.nonce).toBe(retried);
    // The two refused proofs are the only failed requests (each with its console line).
    expect(problemsOf([page]).filter((problem) => !problem.includes("400"))).toEqual([]);
    expect(problemsOf([page]).filter((problem) => /^400 /.test(problem))).toEqual([
      `400 ${base}/auth/login`,
      `400 ${base}/auth/token/refresh`,
    ]);
  });

  it("lists the devices and ends another browser's session", async () => {
    const mine = await start();
    const other = await browser.newContext();
    contexts.push(other);
    const [here, there] = [await openTab(mine), await openTab(other)];
    await logIn(here);
    await logIn(there);

    await here.click("#devices");
    await expect.poll(() => here.locator("#device-list li").count()).toBe(2);
    const foreign = here.locator("#device-list li", { hasText: /^Session / });
    await foreign.getByRole("button", { name: "End this session" }).click();
    await expect.poll(() => here.locator("#device-list li").count()).toBe(1);
    expect(await here.locator("#device-list li").textContent()).toMatch(/^This browser /);

    // The other browser learns at its next refresh, which the server refuses.
    await there.evaluate(() => {
      // Its access token stays valid until it expires; the session check refuses it at once.
      (document.getElementById("check-session") as HTMLInputElement).checked = true;
    });
    await there.click("#me");
    await expect.poll(() => state(there)).toBe("ended");
    expect(await status(there)).toMatch(/^Session ended \(invalid_grant/);
  });

  it("renders the status line and wraps long values (screenshot)", async () => {
    const context = await start();
    const page = await openTab(context);
    await page.setViewportSize({ width: 480, height: 900 });
    await logIn(page);
    await page.click("#me");
    await expect.poll(() => page.locator("#output").textContent()).toContain("→ 200");
    expect(await status(page)).toMatch(
      /^Logged in as demo, session \S+, access token expires in \d+ s$/,
    );

    await mkdir(new URL(".", SCREENSHOT), { recursive: true });
    const shot = await page.screenshot({ path: SCREENSHOT.pathname, fullPage: true });
    expect(shot.subarray(1, 4).toString()).toBe("PNG");
    // The status line is in the picture, on screen, not clipped; no box is wider than the page.
    const line = await page.locator("#status").boundingBox();
    expect(line).not.toBeNull();
    expect(line?.x).toBeGreaterThanOrEqual(0);
    expect((line?.x ?? 0) + (line?.width ?? 0)).toBeLessThanOrEqual(480);
    const overflowing = await page.evaluate(() =>
      ["status", "token", "output"]
        .map((id) => document.getElementById(id) as HTMLElement)
        .filter((element) => element.scrollWidth > element.clientWidth)
        .map((element) => element.id),
    );
    expect(overflowing).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      480,
    );
  });
});
