/*
 * The database server stopped and started again under a stream of refreshes through the HTTP
 * handlers. Each suite runs a private PostgreSQL or MariaDB (the shared servers stay up for the
 * suites running beside this one), stops it cleanly or crashes it while every client keeps
 * refreshing, and restarts it on the same data directory and port.
 *
 * Every answer must be 200 or 503 `temporarily_unavailable`, never a 500 or a hang. A client
 * answered 503 retries the token it holds: if the rotation it asked for committed although the
 * answer was lost, the retry falls in the grace window and receives that same successor. The stop
 * always makes that happen: it comes while every pooled connection waits on a rotation that is
 * committed but not yet answered (see `holdCommits`). So, afterwards, for each session: not
 * revoked, generation = the 200s its client received (all distinct tokens) = rotations answered +
 * grace replays, and the client's last token is the live one. That last token may have been
 * answered just before a crash: it survives the restart.
 */
import { createTokens, generateSigningKey, type TokensEvent } from "@tokens/core";
import { createHandlers, type TokenHandlers } from "@tokens/http";
import { afterAll, beforeAll, expect, it } from "vitest";
import { AUDIENCE, ISSUER } from "../../http/test/suite.js";
import {
  describeWithPrivateServer,
  mariadbMissing,
  type PrivateServer,
  postgresMissing,
  privateMariadb,
  privatePostgres,
  type StopMode,
} from "./private-servers.js";
import { Progress, type Tally, tally } from "./restart-kit.js";
import { BINDINGS } from "./servers.js";
import { mariadbStore, POOL_SIZE, postgresStore, type SqlStore } from "./stores.js";

const CLIENTS = 20;
/** Successful refreshes every client makes before the stop, and again after the restart. */
const WARM_UP = 2;
const RECOVERED = 2;
/** A client's backoff after a 503, before it retries the same token. */
const RETRY_PAUSE_MS = 50;
/** Far longer than any outage here: every retry lands within it. */
const REUSE_GRACE_SECONDS = 120;
/** Safety net: no answer should ever take this long, so reaching it counts as a hang. */
const REQUEST_DEADLINE_MS = 20_000;

interface Client {
  subject: string;
  current: string;
  /** Every refresh token a 200 handed this client. */
  received: Set<string>;
  ok: Tally;
  unavailable: Tally;
}

async function refreshAt(origin: string, path: string, refreshToken: string) {
  const response = await fetch(`${origin}${path}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken }),
    signal: AbortSignal.timeout(REQUEST_DEADLINE_MS),
  });
  const text = await response.text();
  let body: { refresh_token?: string; error?: string } = {};
  try {
    body = JSON.parse(text);
  } catch {
    // Checked below: only a JSON 200 or 503 is an expected answer.
  }
  return { status: response.status, body, text };
}

/** Refreshes until the run is over, retrying the held token after every 503. */
async function drive(client: Client, progress: Progress, origin: string, path: string) {
  while (!(progress.phase === "after" && client.ok.after >= RECOVERED)) {
    if (progress.unexpected.length > 0) return;
    const phase = progress.phase;
    try {
      const answer = await refreshAt(origin, path, client.current);
      if (answer.status === 200 && answer.body.refresh_token) {
        client.ok[phase] += 1;
        client.received.add(answer.body.refresh_token);
        client.current = answer.body.refresh_token;
      } else if (answer.status === 503 && answer.body.error === "temporarily_unavailable") {
        client.unavailable[phase] += 1;
        await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
      } else {
        progress.unexpected.push(`${client.subject}: ${answer.status} ${answer.text}`);
      }
    } catch (error) {
      progress.unexpected.push(`${client.subject}: ${String(error)}`);
    }
    progress.report();
  }
}

const sum = (clients: Client[], pick: (client: Client) => number) =>
  clients.reduce((total, client) => total + pick(client), 0);
const answered = (client: Client) => client.ok.before + client.ok.outage + client.ok.after;

/**
 * Where a rotation's answer can be lost. PostgreSQL rotates the rotations that arrive together
 * (one or more) and returns their rows in one statement, so every held commit holds at least one
 * rotation whose answer the stop loses, and only those are lost. MySQL has no UPDATE …
 * RETURNING: a rotation alone commits its UPDATE, then reads the row back on a pooled
 * connection, so a rotation whose read-back is still waiting for a connection (every one of them
 * is held) loses its answer too. Either way each client that lost an answer recovers it through
 * grace: at most one per client.
 */
type Commits = "in the statement" | "read back after the commit";

async function refreshThroughRestart(
  server: PrivateServer,
  store: SqlStore,
  mode: StopMode,
  commits: Commits,
) {
  const sessionOf = new Map<string, string>();
  const events = new Map<string, TokensEvent[]>();
  const tokens = createTokens({
    issuer: ISSUER,
    audience: AUDIENCE,
    keys: [await generateSigningKey("EdDSA")],
    store: store.store,
    reuseGrace: REUSE_GRACE_SECONDS,
    onEvent: (event) => {
      if (event.type === "session_created") sessionOf.set(event.subject, event.sessionId);
      const ofType = events.get(event.type) ?? [];
      ofType.push(event);
      events.set(event.type, ofType);
    },
  });
  const reported: unknown[] = [];
  const handlers: TokenHandlers = createHandlers(tokens, {
    onError: (error) => void reported.push(error),
  });
  const http = await BINDINGS.node(handlers);
  const path = handlers.paths.refresh;
  const countFor = (type: TokensEvent["type"], sessionId: string) =>
    (events.get(type) ?? []).filter(
      (event) => "sessionId" in event && event.sessionId === sessionId,
    ).length;

  try {
    const clients: Client[] = await Promise.all(
      Array.from({ length: CLIENTS }, async (_, i) => {
        const subject = `restart-${mode}-${i}`;
        const login = await fetch(`${http.url}/login?sub=${subject}`, { method: "POST" });
        expect(login.status).toBe(200);
        const { refresh_token } = (await login.json()) as { refresh_token: string };
        return {
          subject,
          current: refresh_token,
          received: new Set<string>(),
          ok: tally(),
          unavailable: tally(),
        };
      }),
    );

    const progress = new Progress();
    const driven = Promise.all(clients.map((client) => drive(client, progress, http.url, path)));

    // The stop lands while every client is mid-stream, and with a committed rotation unanswered
    // on every pooled connection: those clients get a 503 for a rotation that happened.
    await progress.until(() => clients.every((client) => client.ok.before >= WARM_UP));
    await server.holdCommits();
    let held = 0;
    while (held < POOL_SIZE && progress.unexpected.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      held = await server.heldCommits();
    }
    progress.phase = "outage";
    await server.stop(mode);
    // The outage lasts until every client has been refused: each one comes back through a retry.
    await progress.until(() => clients.every((client) => client.unavailable.outage > 0));
    await server.start();
    progress.phase = "after";
    progress.report();
    await driven;

    expect(progress.unexpected).toEqual([]);
    expect(reported).toEqual([]);
    expect(events.get("reuse_detected") ?? []).toEqual([]);
    expect(events.get("session_revoked") ?? []).toEqual([]);

    const checks = clients.map(async (client) => {
      const sessionId = sessionOf.get(client.subject) as string;
      const oks = answered(client);
      // Every 200 handed out a new token: a grace replay gives the successor that was lost.
      expect(client.received.size).toBe(oks);
      const session = await store.store.getSession(sessionId);
      expect(session?.revokedAt ?? null).toBeNull();
      // Exactly once: one generation per token received, no more (a lost commit is not redone),
      // no fewer (an answered rotation is durable, through a crash too).
      expect(session?.generation).toBe(oks);
      expect(countFor("token_rotated", sessionId) + countFor("grace_replay", sessionId)).toBe(oks);
      // The last token is the live one: refreshing it rotates (a grace replay would not).
      const last = await refreshAt(http.url, path, client.current);
      expect(last.status).toBe(200);
      expect((await store.store.getSession(sessionId))?.generation).toBe(oks + 1);
    });
    await Promise.all(checks);

    // Each unanswered rotation was recovered once, by its client's retry within the grace
    // window; with every connection held, no other commit could lose its answer.
    const graceReplays = (events.get("grace_replay") ?? []).length;
    if (commits === "in the statement") expect(graceReplays).toBeGreaterThanOrEqual(held);
    expect(graceReplays).toBeLessThanOrEqual(CLIENTS);
    console.info(
      `${server.stops[mode]} under ${CLIENTS} clients: ` +
        `before ${sum(clients, (c) => c.ok.before)} ok / ${sum(clients, (c) => c.unavailable.before)} 503; ` +
        `outage ${sum(clients, (c) => c.ok.outage)} ok / ${sum(clients, (c) => c.unavailable.outage)} 503; ` +
        `after ${sum(clients, (c) => c.ok.after)} ok / ${sum(clients, (c) => c.unavailable.after)} 503; ` +
        `${held} commits left unanswered by the stop, ${graceReplays} recovered through grace`,
    );
  } finally {
    await http.close();
  }
}

function restartSuite(
  name: string,
  absent: string | undefined,
  open: () => Promise<PrivateServer>,
  openStore: (serverUrl: string, database: string) => Promise<SqlStore>,
  commits: Commits,
) {
  describeWithPrivateServer(name, absent)(`server stop and restart on a private ${name}`, () => {
    let server: PrivateServer | undefined;
    let store: SqlStore | undefined;
    beforeAll(async () => {
      server = await open();
      store = await openStore(server.url, "tokens_restarts");
    });
    afterAll(async () => {
      try {
        await store?.close();
      } finally {
        await server?.destroy();
      }
    });

    for (const mode of ["clean", "crash"] as const) {
      it(`keeps every session exactly-once through a ${mode} stop and restart (${name})`, async () => {
        await refreshThroughRestart(server as PrivateServer, store as SqlStore, mode, commits);
      }, 60_000);
    }
  });
}

restartSuite("PostgreSQL", postgresMissing, privatePostgres, postgresStore, "in the statement");
restartSuite("MariaDB", mariadbMissing, privateMariadb, mariadbStore, "read back after the commit");
