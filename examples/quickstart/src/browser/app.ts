/*
 * The demo page's script, bundled with `@tokens/client` by this example's build
 * (`tsup.config.ts` → `dist/public/app.js`, served as `/app.js`).
 *
 * The session goes through the client alone: its `fetch` attaches the access token and
 * refreshes it when needed, one refresh serves every tab (a Web Lock), and its
 * BroadcastChannel hands new access tokens and the session's end to every tab, so a logout in
 * one tab shows in all of them without asking the server. The refresh token is an HttpOnly
 * cookie this script cannot read; the access token stays in the client's memory.
 *
 * DPoP is on: the client keeps a non-extractable key pair in IndexedDB (one for every tab,
 * kept across reloads) and signs a proof for every login, refresh, logout and API call, so the
 * server binds the session to that key. A refresh cookie or access token copied out of this
 * browser is useless without the key, and no script (an injected one included) can read it out.
 */
import { createTokenClient, type SessionEndedEvent, TokenClientError } from "@tokens/client";
import { SESSION_HINT_COOKIE } from "../page.js";

interface Shown {
  username: string;
  sessionId: string;
  token: string;
  expiresAt: number;
}

interface DeviceView {
  id: string;
  current: boolean;
  lastUsedAt: string;
  client: { userAgent?: string; ip?: string } | null;
}

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = element<HTMLParagraphElement>("status");
const loginForm = element<HTMLFormElement>("login");
const sessionView = element<HTMLElement>("session");
const tokenView = element<HTMLElement>("token");
const deviceList = element<HTMLUListElement>("device-list");
const activityList = element<HTMLOListElement>("activity");
const output = element<HTMLPreElement>("output");
const checkSession = element<HTMLInputElement>("check-session");

const client = createTokenClient({ dpop: true });
const tabName = nameThisTab();
element("tab-name").textContent = tabName;

/** What the page shows: the session in use, or why there is none. */
let shown: Shown | null = null;
let endedBecause: string | null = null;
/** API calls of this tab still waiting for an answer (perhaps for another tab's refresh). */
let pending = 0;

/**
 * Display only: tabs tell each other who did what, so every tab's log names the tab that
 * refreshed or logged out. The session itself travels on the client's own channel.
 */
const activity = new BroadcastChannel("tokens-quickstart-activity");
activity.onmessage = ({ data }: MessageEvent<unknown>) => {
  const note = data as { tab?: unknown; text?: unknown } | null;
  if (typeof note?.tab === "string" && typeof note.text === "string") log(note.tab, note.text);
};

/** Logs what this tab did or learnt, here only. */
function note(text: string): void {
  log(`${tabName} (this tab)`, text);
}

/** Logs what this tab did, here and in every other tab. */
function announce(text: string): void {
  note(text);
  activity.postMessage({ tab: tabName, text });
}

function log(tab: string, text: string): void {
  const item = document.createElement("li");
  item.textContent = `${new Date().toLocaleTimeString()} ${tab}: ${text}`;
  activityList.prepend(item);
  while (activityList.children.length > 50) activityList.lastElementChild?.remove();
}

client.on("refreshed", ({ expiresAt, source }) => {
  if (source === "refresh") {
    announce("refreshed the access token (one request, for every tab)");
  } else if (source === "login") {
    announce("logged in");
  } else if (source === "other-tab") {
    note(
      pending > 0
        ? "waited for the other tab's refresh and took its access token: no request of its own"
        : "took the new access token from the other tab: no request of its own",
    );
  }
  void showSession(expiresAt);
});

client.on("sessionEnded", (event) => {
  if (event.source === "logout") announce("logged out; every tab was told at once");
  else if (event.source === "other-tab") {
    note("heard that the session ended: logged out too, no request");
  } else note(`the server ended the session (${describe(event)})`);
  // The server drops the hint with the refresh cookie; this also heals a hint left without one.
  // biome-ignore lint/suspicious/noDocumentCookie: a fixed string; older Safari and Firefox lack the Cookie Store API.
  document.cookie = `${SESSION_HINT_COOKIE}=; Max-Age=0; Path=/; SameSite=Strict`;
  shown = null;
  endedBecause = event.error === "logout" ? "logged out" : describe(event);
  render();
});

client.on("refreshFailed", (error) => {
  note(`refresh failed (${error.code}); the session stays, next call retries`);
});

async function showSession(expiresAt: number): Promise<void> {
  // A fresh token is at hand (just refreshed or received): this sends no request.
  const token = await client.getAccessToken();
  if (token === null) return;
  const claims = readClaims(token);
  shown = {
    username: String(claims.preferred_username ?? claims.sub),
    sessionId: String(claims.sid),
    token,
    expiresAt,
  };
  endedBecause = null;
  render();
}

/**
 * The access token's claims, for display only: the page never trusts them for anything (the
 * API verifies the signature).
 */
function readClaims(token: string): Record<string, unknown> {
  const payload = (token.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/");
  const bytes = Uint8Array.from(atob(payload), (char) => char.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
}

function render(): void {
  const state = shown ? "active" : endedBecause ? "ended" : "none";
  document.body.dataset.state = state;
  loginForm.hidden = shown !== null;
  sessionView.hidden = shown === null;
  if (!shown) {
    status.textContent = endedBecause ? `Session ended (${endedBecause}).` : "Not logged in.";
    status.removeAttribute("data-expires-at");
    tokenView.textContent = "";
    deviceList.replaceChildren();
    return;
  }
  const left = Math.ceil((shown.expiresAt - Date.now()) / 1000);
  const expiry =
    left > 0
      ? `access token expires in ${left} s`
      : "access token expired, the next API call refreshes it";
  status.textContent = `Logged in as ${shown.username}, session ${shown.sessionId}, ${expiry}`;
  status.dataset.expiresAt = String(shown.expiresAt);
  tokenView.textContent = shown.token;
}

function describe(event: Pick<SessionEndedEvent, "error" | "error_description">): string {
  return event.error_description ? `${event.error}: ${event.error_description}` : event.error;
}

function show(title: string, body: unknown): void {
  output.textContent = body === undefined ? title : `${title}\n\n${JSON.stringify(body, null, 2)}`;
}

/** An API call through the client: the access token attached, refreshed first if needed. */
async function call(
  label: string,
  path: string,
  init?: RequestInit,
): Promise<{ status: number; body: unknown } | null> {
  // Visible to tests (and devtools): how many calls wait, perhaps for another tab's refresh.
  document.body.dataset.pending = String(++pending);
  try {
    const response = await client.fetch(path, init);
    const text = await response.text();
    const body: unknown = text ? JSON.parse(text) : undefined;
    show(`${label} → ${response.status}`, body);
    return { status: response.status, body };
  } catch (error) {
    show(`${label} failed`, error instanceof Error ? error.message : String(error));
    return null;
  } finally {
    document.body.dataset.pending = String(--pending);
  }
}

async function listDevices(): Promise<void> {
  const answer = await call("GET /auth/sessions", "/auth/sessions");
  if (answer?.status !== 200) return;
  const { sessions } = answer.body as { sessions: DeviceView[] };
  deviceList.replaceChildren(...sessions.map(deviceItem));
}

function deviceItem(session: DeviceView): HTMLLIElement {
  const item = document.createElement("li");
  const where = [session.client?.userAgent, session.client?.ip].filter(Boolean).join(", ");
  const used = new Date(session.lastUsedAt).toLocaleTimeString();
  item.textContent = `${session.current ? "This browser" : "Session"} ${session.id} (${where || "unknown client"}), last used ${used}`;
  const end = document.createElement("button");
  end.textContent = "End this session";
  end.addEventListener("click", async () => {
    if (session.current) {
      // This browser's own session: a logout, so every tab and the cookie learn of it.
      await client.logout();
      return;
    }
    await call(`DELETE /auth/sessions/${session.id}`, `/auth/sessions/${session.id}`, {
      method: "DELETE",
    });
    await listDevices();
  });
  item.append(end);
  return item;
}

function nameThisTab(): string {
  // Per tab, kept across reloads of that tab.
  const name = sessionStorage.getItem("quickstart-tab") ?? `Tab ${crypto.randomUUID().slice(0, 4)}`;
  sessionStorage.setItem("quickstart-tab", name);
  return name;
}

loginForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(loginForm);
  try {
    await client.login({ username: form.get("username"), password: form.get("password") });
    show("POST /auth/login → 200", undefined);
  } catch (error) {
    const refused = error instanceof TokenClientError;
    show(`POST /auth/login → ${refused ? error.status : "failed"}`, String(error));
  }
});
element("me").addEventListener("click", () =>
  call("GET /api/me", checkSession.checked ? "/api/me?check=session" : "/api/me"),
);
element("devices").addEventListener("click", listDevices);
element("logout").addEventListener("click", () => client.logout());
// The countdown is local: no request.
setInterval(render, 1000);

/** The server's "a session may exist" cookie (see `SESSION_HINT_COOKIE`). */
const mayHaveSession = document.cookie
  .split(";")
  .some((cookie) => cookie.trim().startsWith(`${SESSION_HINT_COOKIE}=`));
if (mayHaveSession) {
  // A reload or a new tab: the cookie gets a new access token if the session lives.
  client.getAccessToken().catch((error: unknown) => {
    show("Could not reach the session", String(error));
    render();
  });
} else {
  render();
}
