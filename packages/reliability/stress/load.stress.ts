/*
 * Load: the node:http handlers on the memory store at the highest rate the clients reach, for
 * STRESS_SECONDS (default 60). Every answer must be the expected one, and the heap measured
 * after forced collections must stay flat. Prints the figures.
 */
import { createTokens, generateSigningKey } from "@tokens/core";
import { createHandlers } from "@tokens/http";
import { memoryStore } from "@tokens/memory";
import { expect, it } from "vitest";
import { AUDIENCE, ISSUER } from "../../http/test/suite.js";
import { BINDINGS } from "../test/servers.js";

const SECONDS = Number(process.env.STRESS_SECONDS ?? 60);
const CLIENTS = 32;

const collect = () => (globalThis as { gc?: () => void }).gc?.();

it(`serves ${SECONDS} s of refreshes and authenticated calls without errors or heap growth`, async () => {
  expect(typeof (globalThis as { gc?: unknown }).gc).toBe("function");
  const tokens = createTokens({
    issuer: ISSUER,
    audience: AUDIENCE,
    keys: [await generateSigningKey("EdDSA")],
    store: memoryStore(),
    // Spent token rows are kept for reuse detection until purged; purge them quickly here so
    // the heap reflects leaks, not retention.
    purgeRetention: 1,
  });
  const server = await BINDINGS.node(createHandlers(tokens));
  const counts = { refresh: 0, me: 0, strict: 0, errors: 0 };
  const errors: string[] = [];
  const heap: number[] = [];
  const deadline = Date.now() + SECONDS * 1_000;
  try {
    const client = async (i: number) => {
      let refreshToken = "";
      let accessToken = "";
      const login = async () => {
        const response = await fetch(`${server.url}/login?sub=load-${i}`, { method: "POST" });
        const body = (await response.json()) as { refresh_token: string; access_token: string };
        refreshToken = body.refresh_token;
        accessToken = body.access_token;
      };
      await login();
      for (let n = 0; Date.now() < deadline; n += 1) {
        if (n % 200 === 199) {
          // A new session now and then, the old one revoked: sessions come and go.
          await tokens.revoke(refreshToken);
          await login();
        }
        const step = n % 3;
        const response =
          step === 0
            ? await fetch(`${server.url}/auth/token/refresh`, {
                method: "POST",
                headers: { "content-type": "application/x-www-form-urlencoded" },
                body: `grant_type=refresh_token&refresh_token=${refreshToken}`,
              })
            : await fetch(`${server.url}${step === 1 ? "/api/me" : "/api/strict"}`, {
                headers: { authorization: `Bearer ${accessToken}` },
              });
        const body = (await response.json()) as { refresh_token?: string; access_token?: string };
        if (response.status !== 200) {
          counts.errors += 1;
          if (errors.length < 10) errors.push(`${response.status} ${JSON.stringify(body)}`);
          continue;
        }
        if (step === 0) {
          counts.refresh += 1;
          refreshToken = body.refresh_token as string;
          accessToken = body.access_token as string;
        } else if (step === 1) counts.me += 1;
        else counts.strict += 1;
      }
    };
    const sampler = (async () => {
      while (Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5_000));
        await tokens.purge();
        collect();
        heap.push(process.memoryUsage().heapUsed);
      }
    })();
    await Promise.all([...Array.from({ length: CLIENTS }, (_, i) => client(i)), sampler]);
  } finally {
    await server.close();
  }
  const total = counts.refresh + counts.me + counts.strict + counts.errors;
  const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  console.info(
    `load: ${SECONDS} s, ${CLIENTS} clients, ${total} requests (${Math.round(total / SECONDS)}/s): ` +
      `${counts.refresh} refreshes, ${counts.me} /api/me, ${counts.strict} /api/strict, ` +
      `${counts.errors} errors; heap after GC (MB): ${heap.map(mb).join(" ")}`,
  );
  expect(errors).toEqual([]);
  expect(counts.errors).toBe(0);
  // Flat: after warm-up, the last sample is within 25% (+8 MB) of the first.
  const [first, ...rest] = heap.slice(1);
  const last = rest.at(-1);
  if (first !== undefined && last !== undefined) {
    expect(last).toBeLessThan(first * 1.25 + 8 * 1024 * 1024);
  }
});
