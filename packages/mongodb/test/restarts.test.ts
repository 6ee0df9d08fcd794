/*
 * The server stopped and started again under a stream of refreshes, as the reliability package
 * does for PostgreSQL and MariaDB. A private FerretDB (whatever MONGODB_URL says: a real MongoDB
 * cannot be stopped from here) is stopped cleanly or killed while every client keeps refreshing,
 * then restarted on the same data folder and port.
 *
 * Every refresh must resolve or reject with `StoreUnavailableError`, never another error or a
 * hang. A client refused retries the token it holds: if the rotation it asked for was applied
 * although the answer was lost, the retry falls in the grace window and receives that same
 * successor. So, afterwards, for each session: not revoked, no reuse detected (no fork),
 * generation = the refreshes its client saw succeed (all distinct tokens) = rotations + grace
 * replays, and the client's last token is the live one (nothing half-rotated).
 */
import {
  createTokens,
  generateSigningKey,
  StoreUnavailableError,
  type TokensEvent,
} from "@tokens/core";
import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Progress, type Tally, tally } from "../../reliability/test/restart-kit.js";
import { ensureIndexes, mongoStore } from "../src/index.js";
import {
  type FerretdbServer,
  ferretdbBinary,
  type StopMode,
  startFerretdb,
} from "./support/ferretdb.js";

const CLIENTS = 20;
/** Successful refreshes every client makes before the stop, and again after the restart. */
const WARM_UP = 2;
const RECOVERED = 2;
/** A client's backoff after a refusal, before it retries the same token. */
const RETRY_PAUSE_MS = 50;
/** Far longer than any outage here: every retry lands within it. */
const REUSE_GRACE_SECONDS = 120;
/** Safety net: no refresh should ever take this long, so reaching it counts as a hang. */
const REFRESH_DEADLINE_MS = 20_000;

const binary = ferretdbBinary();
const missing = "missing" in binary ? binary.missing : undefined;
// TOKENS_REQUIRE_SERVERS=1 (CI): run anyway, so the start fails and names what is missing.
const suite = missing === undefined || process.env.TOKENS_REQUIRE_SERVERS === "1";
if (!suite) console.warn(`[@tokens/mongodb] skipped the FerretDB restart suite: ${missing}`);

interface Client {
  subject: string;
  current: string;
  received: Set<string>;
  ok: Tally;
  refused: Tally;
}

function withinDeadline<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("refresh hung")), REFRESH_DEADLINE_MS);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

const sum = (clients: Client[], pick: (client: Client) => number) =>
  clients.reduce((total, client) => total + pick(client), 0);

describe.skipIf(!suite)("server stop and restart on a private FerretDB", () => {
  let server: FerretdbServer | undefined;
  let client: MongoClient | undefined;

  beforeAll(async () => {
    if ("missing" in binary) throw new Error(`cannot start FerretDB: ${binary.missing}`);
    server = await startFerretdb(binary.path);
    // Fail within seconds while the server is away; reconnect as soon as it is back.
    client = new MongoClient(server.url, {
      serverSelectionTimeoutMS: 2_000,
      connectTimeoutMS: 2_000,
      heartbeatFrequencyMS: 500,
    });
    await client.connect();
    await ensureIndexes({ db: client.db("tokens_restarts") });
  });
  afterAll(async () => {
    try {
      await client?.close();
    } finally {
      await server?.destroy();
    }
  });

  async function refreshThroughRestart(mode: StopMode) {
    const store = mongoStore({ db: (client as MongoClient).db("tokens_restarts") });
    const sessionOf = new Map<string, string>();
    const events = new Map<string, TokensEvent[]>();
    const tokens = createTokens({
      issuer: "https://issuer.test",
      audience: "api",
      keys: [await generateSigningKey("EdDSA")],
      store,
      reuseGrace: REUSE_GRACE_SECONDS,
      onEvent: (event) => {
        if (event.type === "session_created") sessionOf.set(event.subject, event.sessionId);
        events.set(event.type, [...(events.get(event.type) ?? []), event]);
      },
    });
    const countFor = (type: TokensEvent["type"], sessionId: string) =>
      (events.get(type) ?? []).filter(
        (event) => "sessionId" in event && event.sessionId === sessionId,
      ).length;

    const clients: Client[] = await Promise.all(
      Array.from({ length: CLIENTS }, async (_, i) => {
        const subject = `restart-${mode}-${i}`;
        const pair = await tokens.issue({ subject });
        return {
          subject,
          current: pair.refresh_token,
          received: new Set<string>(),
          ok: tally(),
          refused: tally(),
        };
      }),
    );

    const progress = new Progress();
    const drive = async (c: Client) => {
      while (!(progress.phase === "after" && c.ok.after >= RECOVERED)) {
        if (progress.unexpected.length > 0) return;
        const phase = progress.phase;
        try {
          const pair = await withinDeadline(tokens.refresh(c.current));
          c.ok[phase] += 1;
          c.received.add(pair.refresh_token);
          c.current = pair.refresh_token;
        } catch (error) {
          if (error instanceof StoreUnavailableError) {
            c.refused[phase] += 1;
            await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
          } else {
            progress.unexpected.push(`${c.subject}: ${String(error)}`);
          }
        }
        progress.report();
      }
    };
    const driven = Promise.all(clients.map(drive));

    await progress.until(() => clients.every((c) => c.ok.before >= WARM_UP));
    progress.phase = "outage";
    await (server as FerretdbServer).stop(mode);
    // The outage lasts until every client has been refused: each one comes back through a retry.
    await progress.until(() => clients.every((c) => c.refused.outage > 0));
    await (server as FerretdbServer).start();
    progress.phase = "after";
    progress.report();
    await driven;

    expect(progress.unexpected).toEqual([]);
    expect(events.get("reuse_detected") ?? []).toEqual([]);
    expect(events.get("session_revoked") ?? []).toEqual([]);
    for (const c of clients) {
      const sessionId = sessionOf.get(c.subject) as string;
      const oks = c.ok.before + c.ok.outage + c.ok.after;
      // Every success handed out a new token: a grace replay gives the successor that was lost.
      expect(c.received.size).toBe(oks);
      const session = await store.getSession(sessionId);
      expect(session?.revokedAt ?? null).toBeNull();
      // One generation per token received: no rotation lost, none applied twice.
      expect(session?.generation).toBe(oks);
      expect(countFor("token_rotated", sessionId) + countFor("grace_replay", sessionId)).toBe(oks);
      // The last token is the live one: refreshing it rotates (a grace replay would not).
      await tokens.refresh(c.current);
      expect((await store.getSession(sessionId))?.generation).toBe(oks + 1);
    }
    console.info(
      `FerretDB ${mode} stop under ${CLIENTS} clients: ` +
        `before ${sum(clients, (c) => c.ok.before)} ok / ${sum(clients, (c) => c.refused.before)} refused; ` +
        `outage ${sum(clients, (c) => c.ok.outage)} ok / ${sum(clients, (c) => c.refused.outage)} refused; ` +
        `after ${sum(clients, (c) => c.ok.after)} ok / ${sum(clients, (c) => c.refused.after)} refused; ` +
        `${(events.get("grace_replay") ?? []).length} recovered through grace`,
    );
  }

  for (const mode of ["clean", "crash"] as const) {
    it(`keeps every session exactly-once through a ${mode} stop and restart (FerretDB)`, async () => {
      await refreshThroughRestart(mode);
    }, 60_000);
  }
});
