import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createTokens, generateSigningKey, type Tokens } from "@tokens/core";
import { memoryStore } from "@tokens/memory";

/** Listens on an ephemeral loopback port and returns it. */
export function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}

export function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A tokens instance on the memory store with one EdDSA key, the product's default set-up. */
export async function memoryTokens(): Promise<Tokens> {
  return createTokens({
    issuer: "https://auth.example.com",
    audience: "https://api.example.com",
    keys: [await generateSigningKey("EdDSA", { kid: "bench" })],
    store: memoryStore(),
  });
}

/** Opens `count` sessions and returns their refresh tokens. */
export async function issueMany(tokens: Tokens, count: number): Promise<string[]> {
  const pairs = await Promise.all(
    Array.from({ length: count }, (_, i) => tokens.issue({ subject: `user-${i}` })),
  );
  return pairs.map((pair) => pair.refresh_token);
}

/** A body the size and shape of a token answer, for the fixed-JSON baselines. */
export const FIXED_BODY = JSON.stringify({
  access_token: `eyJhbGciOiJFZERTQSIsInR5cCI6ImF0K2p3dCIsImtpZCI6ImJlbmNoIn0.${"x".repeat(280)}.${"y".repeat(86)}`,
  token_type: "Bearer",
  expires_in: 900,
  refresh_token: `tokens_rt_${"z".repeat(43)}`,
});
