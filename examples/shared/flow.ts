/**
 * The end-to-end flow every example's smoke test runs: log in, call the API with the access
 * token, rotate the refresh token, then replay a spent one and watch the whole session die.
 * `send` is how the example is reached: real `fetch` to a listening server, or a direct call of
 * route handlers.
 */
import { expect } from "vitest";

export type Send = (path: string, init?: RequestInit) => Promise<Response>;

interface TokenBody {
  access_token: string;
  refresh_token: string;
  token_type: string;
}

async function tokenBody(response: Response): Promise<TokenBody> {
  expect(response.status).toBe(200);
  const body = (await response.json()) as TokenBody;
  expect(body.token_type).toBe("Bearer");
  expect(body.refresh_token).toMatch(/^tokens_rt_/);
  return body;
}

const refresh = (send: Send, refreshToken: string) =>
  send("/auth/token/refresh", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken }),
  });

const me = (send: Send, accessToken: string) =>
  send("/api/me", { headers: { authorization: `Bearer ${accessToken}` } });

export async function loginRefreshReuse(send: Send, subject: string): Promise<void> {
  const wrong = await send("/auth/login", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "demo", password: "wrong" }),
  });
  expect(wrong.status).toBe(401);

  const first = await tokenBody(
    await send("/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "demo", password: "demo" }),
    }),
  );
  const profile = await me(send, first.access_token);
  expect(profile.status).toBe(200);
  expect(await profile.json()).toMatchObject({ sub: subject });
  expect((await send("/api/me")).status).toBe(401);

  const second = await tokenBody(await refresh(send, first.refresh_token));
  expect(second.refresh_token).not.toBe(first.refresh_token);
  expect((await me(send, second.access_token)).status).toBe(200);
  const third = await tokenBody(await refresh(send, second.refresh_token));

  // `first` is two rotations old, beyond any grace window: a replay means theft.
  const replay = await refresh(send, first.refresh_token);
  expect(replay.status).toBe(400);
  expect(await replay.json()).toMatchObject({ error: "invalid_grant" });
  // The whole family is revoked, so the live token dies with it.
  const live = await refresh(send, third.refresh_token);
  expect(live.status).toBe(400);
  expect(await live.json()).toMatchObject({ error: "invalid_grant" });
}
