/*
 * The demo page: the browser cookie flow by hand. The refresh token lives in an HttpOnly cookie
 * this script cannot read; the access token lives in a variable, never in storage. The script
 * and styles are separate files so the page can run under a strict Content-Security-Policy.
 */

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>tokens quickstart</title>
  <link rel="stylesheet" href="/app.css">
  <script type="module" src="/app.js"></script>
</head>
<body>
  <main>
    <h1>tokens quickstart</h1>
    <p>Browser flow: the refresh token is in an <code>HttpOnly</code> cookie scoped to
      <code>/auth</code>; the access token is kept in memory only.</p>
    <form id="login">
      <label>Username <input name="username" value="demo" autocomplete="username"></label>
      <label>Password <input name="password" type="password" value="demo" autocomplete="current-password"></label>
      <button type="submit">Log in</button>
    </form>
    <p class="actions">
      <button id="me">GET /api/me</button>
      <button id="refresh">Refresh</button>
      <button id="sessions">Sessions</button>
      <button id="logout">Log out</button>
      <button id="logout-all">Log out everywhere</button>
    </p>
    <p>Access token: <code id="token">none</code></p>
    <pre id="output" aria-live="polite"></pre>
  </main>
</body>
</html>
`;

export const PAGE_CSS = `body { font: 16px/1.5 system-ui, sans-serif; margin: 0; background: #f6f7f9; color: #1d232b; }
main { max-width: 46rem; margin: 2rem auto; padding: 0 1rem; }
form, .actions { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; }
label { display: grid; font-size: .85rem; }
input, button { font: inherit; padding: .35rem .6rem; }
pre { background: #fff; border: 1px solid #d6dae0; padding: 1rem; overflow: auto; min-height: 8rem; }
code { word-break: break-all; }
`;

export const PAGE_SCRIPT = `let accessToken = null;
const output = document.getElementById("output");
const tokenView = document.getElementById("token");

function show(label, status, body) {
  output.textContent = label + " → " + status + "\\n\\n" + (body === undefined ? "" : JSON.stringify(body, null, 2));
}

function setToken(token) {
  accessToken = token;
  tokenView.textContent = token ? token.slice(0, 24) + "…" : "none";
}

async function call(label, path, init = {}) {
  const response = await fetch(path, { credentials: "same-origin", ...init });
  const text = await response.text();
  const body = text ? JSON.parse(text) : undefined;
  show(label, response.status, body);
  return { response, body };
}

// Cookie-authenticated calls must carry Token-Request: the server's CSRF check.
async function refresh() {
  const { response, body } = await call("POST /auth/token/refresh", "/auth/token/refresh", {
    method: "POST",
    headers: { "Token-Request": "1" },
  });
  setToken(response.ok ? body.access_token : null);
  return response.ok;
}

async function withAccessToken(label, path, init = {}) {
  const send = () =>
    call(label, path, { ...init, headers: { ...init.headers, Authorization: "Bearer " + accessToken } });
  let result = await send();
  // An expired or revoked access token: refresh once with the cookie, then retry.
  if (result.response.status === 401 && (await refresh())) result = await send();
  return result;
}

document.getElementById("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const { response, body } = await call("POST /auth/login", "/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json", "Token-Transport": "cookie" },
    body: JSON.stringify({ username: form.get("username"), password: form.get("password") }),
  });
  if (response.ok) setToken(body.access_token);
});
document.getElementById("me").addEventListener("click", () => withAccessToken("GET /api/me", "/api/me"));
document.getElementById("refresh").addEventListener("click", refresh);
document.getElementById("sessions").addEventListener("click", () => withAccessToken("GET /auth/sessions", "/auth/sessions"));
document.getElementById("logout").addEventListener("click", async () => {
  await call("POST /auth/token/revoke", "/auth/token/revoke", { method: "POST", headers: { "Token-Request": "1" } });
  setToken(null);
});
document.getElementById("logout-all").addEventListener("click", async () => {
  await withAccessToken("POST /auth/logout-all", "/auth/logout-all", { method: "POST" });
  setToken(null);
});

// A reload loses the in-memory access token; the cookie gets a new one if the session lives.
refresh().then((ok) => { if (!ok) show("Not logged in", "-", undefined); });
`;
