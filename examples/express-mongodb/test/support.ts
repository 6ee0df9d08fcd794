import type { AddressInfo } from "node:net";
import type { SigningKey } from "@tokens/core";
import type { Express } from "express";
import { expect } from "vitest";
import type { Send } from "../../shared/flow.js";

/** The app listening on a random loopback port, reached with real `fetch`. */
export interface Served {
  send: Send;
  close(): Promise<void>;
}

/** Serves `app` on 127.0.0.1 (any free port) until `close`. */
export async function serve(app: Express): Promise<Served> {
  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    send: (path, init) => fetch(`${base}${path}`, init),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The refresh grant, as a form (RFC 6749 §6). */
export const refresh = (send: Send, token: string) =>
  send("/auth/token/refresh", {
    method: "POST",
    body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: token }),
  });

/** RFC 7009 revocation: how a client logs out in body mode. */
export const revoke = (send: Send, token: string) =>
  send("/auth/token/revoke", { method: "POST", body: new URLSearchParams({ token }) });

/** The demo login. */
export const login = (send: Send) =>
  send("/auth/login", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "demo", password: "demo" }),
  });

/** The JWK set publishes `key`'s public half, and nothing that could sign. */
export async function expectPublicJwks(send: Send, key: SigningKey): Promise<void> {
  const response = await send("/.well-known/jwks.json");
  expect(response.status).toBe(200);
  const { keys } = (await response.json()) as { keys: Record<string, unknown>[] };
  expect(keys).toHaveLength(1);
  expect(keys[0]).toMatchObject({ kid: key.kid, kty: key.kty, crv: key.crv, x: key.x });
  expect(keys[0]).not.toHaveProperty("d");
}
