/*
 * The demo page in a real browser: the cookie flow works end to end with the browser's own
 * cookie jar, Origin and Sec-Fetch-Site headers, and the refresh token stays out of reach of
 * page scripts.
 */
import { existsSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createQuickstart, type Quickstart } from "../src/index.js";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn(`SKIPPED: quickstart browser tests need ${CHROMIUM} (apt-get install -y chromium)`);

describe.runIf(hasChromium)("quickstart page in Chromium", () => {
  let server: Server;
  let base: string;
  let quickstart: Quickstart;
  let browser: Browser;

  beforeAll(async () => {
    server = createAdaptorServer({
      fetch: (request, env) => quickstart.app.fetch(request, env),
    }) as Server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    // http://localhost, as the quickstart runs by default: the development cookie without Secure.
    base = `http://localhost:${(server.address() as AddressInfo).port}`;
    quickstart = await createQuickstart({ issuer: base });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
  });
  afterAll(async () => {
    await browser?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  const output = (page: Page) => page.locator("#output");
  async function click(page: Page, selector: string, expected: string) {
    await page.click(selector);
    await expect.poll(() => output(page).textContent()).toContain(expected);
  }

  it("logs in, calls the API, survives a reload through the cookie, and logs out", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await expect.poll(() => output(page).textContent()).toContain("Not logged in");

    await click(page, "#login button", "POST /auth/login → 200");
    await click(page, "#me", '"sub": "user_demo"');

    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({
      name: "tokens_rt",
      path: "/auth",
      httpOnly: true,
      sameSite: "Strict",
    });
    expect(await page.evaluate(() => document.cookie)).not.toContain("tokens_rt");

    // A reload forgets the in-memory access token; the page's refresh gets a new one.
    await page.reload();
    await expect.poll(() => output(page).textContent()).toContain("POST /auth/token/refresh → 200");
    await click(page, "#sessions", '"current": true');

    await click(page, "#logout", "POST /auth/token/revoke → 200");
    expect(await context.cookies()).toEqual([]);
    await click(page, "#refresh", "POST /auth/token/refresh → 400");
    expect(await quickstart.tokens.listSessions("user_demo")).toEqual([]);
    await context.close();
  });

  it("logs out everywhere, ending other browsers' sessions", async () => {
    const first = await browser.newContext();
    const second = await browser.newContext();
    const pages = [await first.newPage(), await second.newPage()];
    for (const page of pages) {
      await page.goto(`${base}/`);
      await click(page, "#login button", "POST /auth/login → 200");
    }
    const [one, two] = pages as [Page, Page];
    await click(two, "#logout-all", '"revoked": 2');
    await click(one, "#refresh", "POST /auth/token/refresh → 400");
    await first.close();
    await second.close();
  });
});
