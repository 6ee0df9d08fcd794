/*
 * The demo page's markup and styles. Its script is `src/browser/app.ts`, bundled with
 * `@tokens/client` by this example's build. Script, styles and icon are separate files so the
 * page runs under a strict Content-Security-Policy.
 */

/**
 * How the page avoids a refresh that is bound to fail. The refresh cookie is `HttpOnly`, so the
 * page cannot see whether it has one, and a refresh without it answers 400. Every answer that
 * sets or deletes the refresh cookie therefore also sets or deletes this companion: readable by
 * the page, holding no secret (just `1`), with the same lifetime. It says "a session may
 * exist": the page refreshes on load only when it is there, so a logged-out visitor sends no
 * request that fails. The server never reads it; it grants nothing. Shared by the server
 * (`app.ts`) and the page's script (`browser/app.ts`).
 *
 * @example
 * ```ts
 * const mayHaveSession = document.cookie
 *   .split(";")
 *   .some((cookie) => cookie.trim().startsWith(`${SESSION_HINT_COOKIE}=`));
 * ```
 */
export const SESSION_HINT_COOKIE = "tokens_session";

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>tokens quickstart</title>
  <link rel="icon" href="/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/app.css">
  <script type="module" src="/app.js"></script>
</head>
<body data-state="loading">
  <main>
    <h1>tokens quickstart <small id="tab-name"></small></h1>
    <p id="status" role="status">Loading…</p>
    <form id="login" hidden>
      <label>Username <input name="username" value="demo" autocomplete="username"></label>
      <label>Password <input name="password" type="password" value="demo" autocomplete="current-password"></label>
      <button type="submit">Log in</button>
    </form>
    <section id="session" hidden>
      <p class="actions">
        <button id="me">GET /api/me</button>
        <label class="check"><input id="check-session" type="checkbox"> check the session (<code>?check=session</code>)</label>
        <button id="devices">Devices</button>
        <button id="logout">Log out</button>
      </p>
      <p>Access token: <code id="token"></code></p>
      <ul id="device-list"></ul>
    </section>
    <p class="note">The page uses <code>@tokens/client</code>: the refresh token is an <code>HttpOnly</code>
      cookie sent only to <code>/auth/token/…</code>, the access token lives in memory, and all tabs share
      one refresh. An access token copied before a logout keeps working until it expires (plus 5 s of clock
      tolerance) wherever the API only checks its signature; with <em>check the session</em>,
      <code>/api/me</code> also looks the session up and refuses it at once.</p>
    <h2>Across tabs</h2>
    <ol id="activity" reversed></ol>
    <pre id="output" aria-live="polite"></pre>
  </main>
</body>
</html>
`;

export const PAGE_CSS = `[hidden] { display: none !important; }
body { font: 16px/1.5 system-ui, sans-serif; margin: 0; background: #f6f7f9; color: #1d232b; }
main { max-width: 46rem; margin: 2rem auto; padding: 0 1rem; }
h1 small { font-size: 1rem; font-weight: normal; color: #5b6573; }
h2 { font-size: 1.1rem; margin-top: 1.5rem; }
form, .actions { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; }
label { display: grid; font-size: .85rem; }
label.check { display: flex; gap: .3rem; align-items: center; }
input, button { font: inherit; padding: .35rem .6rem; }
#status { background: #fff; border: 1px solid #d6dae0; border-left: 4px solid #8a94a3; padding: .5rem .75rem; }
body[data-state="active"] #status { border-left-color: #2f8f46; }
body[data-state="ended"] #status { border-left-color: #b7462f; }
#status, code, pre, li { overflow-wrap: anywhere; }
.note { font-size: .9rem; color: #4a5361; }
#activity { font-size: .9rem; padding-left: 1.5rem; max-height: 14rem; overflow-y: auto; }
#device-list button { margin-left: .5rem; padding: .1rem .4rem; }
pre { background: #fff; border: 1px solid #d6dae0; padding: 1rem; white-space: pre-wrap; min-height: 4rem; }
`;

/**
 * The page's icon, served as `/favicon.svg`: browsers ask for one, and a missing icon would be
 * a 404 on every visit.
 *
 * @example
 * ```ts
 * app.get("/favicon.svg", (c) => c.body(PAGE_ICON, 200, { "content-type": "image/svg+xml" }));
 * ```
 */
export const PAGE_ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#2f8f46"/><path d="M4 8h8M8 4v8" stroke="#fff" stroke-width="2"/></svg>
`;
