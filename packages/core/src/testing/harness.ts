import { base64url } from "jose";
import { expect, it } from "vitest";
import { createTokens } from "../create-tokens.js";
import type { TokensErrorReason } from "../errors.js";
import { hmacKey } from "../internal/hmac.js";
import { KeyRing } from "../internal/key-ring.js";
import { formatToken, newSecret, type TagKey } from "../internal/refresh-token.js";
import type { Rotation, SessionRecord, TokenStore } from "../store.js";
import type { SigningKey, Tokens, TokensConfig, TokensEvent } from "../types.js";

/** What the suite opened: the adapter's stores plus the keys every tokens instance shares. */
export interface Env {
  /** The store under test. */
  store: TokenStore;
  /** `store` followed by its peers: the same data through independent connections. */
  stores: TokenStore[];
  keys: SigningKey[];
  concurrency: number;
  faults: {
    unavailable?: () => Promise<TokenStore>;
    interrupt?: () => Promise<void>;
  };
}

/**
 * The marker in the names of race tests registered as skipped because the server cannot apply a
 * conditional write atomically (see `ConformanceOptions.atomicWrites`). Test reports can allow
 * exactly these skips and no others.
 *
 * @example
 * ```ts
 * import { NON_ATOMIC_SERVER } from "@tokens/core/testing";
 *
 * const allowed = skippedTestNames.filter((name) => name.includes(NON_ATOMIC_SERVER));
 * ```
 */
export const NON_ATOMIC_SERVER = "[server without atomic conditional writes:";

/**
 * `it` for a test that races writes on one record: registered as skipped, with the reason in its
 * name, when the server is declared unable to apply conditional writes atomically.
 */
export function raceTest(
  unsupported: string | undefined,
): (name: string, test: () => Promise<void>) => void {
  return (name, test) =>
    unsupported === undefined
      ? it(name, test)
      : it.skip(`${name} ${NON_ATOMIC_SERVER} ${unsupported}]`, test);
}

/** An injectable clock: tests move time forward instead of sleeping. */
export interface Clock {
  now(): number;
  /** Moves the clock forward by `ms` milliseconds. */
  advance(ms: number): void;
}

export function clockAt(start: number): Clock {
  let current = start;
  return {
    now: () => current,
    advance: (ms) => {
      current += ms;
    },
  };
}

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/**
 * Clock start for tests that purge: far enough in the past that a purge run by the suite can
 * only delete sessions the suite created for that purpose, never those of another suite that
 * shares the database and uses the real time.
 */
export const PAST = Date.now() - 400 * DAY;

/** A tokens instance over one store, with its clock and the events it emitted. */
export interface Harness {
  tokens: Tokens;
  clock: Clock;
  events: TokensEvent[];
}

export interface HarnessOptions {
  store?: TokenStore;
  clock?: Clock;
  events?: TokensEvent[];
}

export function harness(
  env: Env,
  config: Partial<TokensConfig> = {},
  options: HarnessOptions = {},
): Harness {
  const clock = options.clock ?? clockAt(Date.now());
  const events = options.events ?? [];
  const tokens = createTokens({
    issuer: "https://issuer.conformance.test",
    audience: "https://api.conformance.test",
    keys: env.keys,
    store: options.store ?? env.store,
    now: clock.now,
    onEvent: (event) => {
      events.push(event);
    },
    ...config,
  });
  return { tokens, clock, events };
}

/** One tokens instance per store of the environment, sharing the clock and the event log. */
export function harnesses(env: Env, config: Partial<TokensConfig> = {}): Harness[] {
  const clock = clockAt(Date.now());
  const events: TokensEvent[] = [];
  return env.stores.map((store) => harness(env, config, { store, clock, events }));
}

/** Random URL-safe text: isolates tests that share one store by subject and id. */
export function randomText(bytes = 16): string {
  return base64url.encode(crypto.getRandomValues(new Uint8Array(bytes)));
}

export function newSubject(label = "user"): string {
  return `${label}-${randomText(9)}`;
}

/**
 * A well-formed refresh token that core never issued: for a random session, or — a forgery by
 * someone who knows a session id from an access token's `sid` — for the given one, at the given
 * generation. Its tag is made under a key no tokens instance has, so `refresh` refuses it with
 * `invalid_grant` (`not_found`) without asking the store.
 *
 * @example
 * ```ts
 * import { unknownRefreshToken } from "@tokens/core/testing";
 *
 * const response = await app.request("/auth/token", {
 *   method: "POST",
 *   body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: unknownRefreshToken() }),
 * });
 * expect(response.status).toBe(400);
 * ```
 */
export function unknownRefreshToken(sessionId = randomText(), generation = 0): string {
  const key = hmacKey(crypto.getRandomValues(new Uint8Array(32)));
  return formatToken({ sessionId, generation, secret: newSecret() }, key);
}

/**
 * A refresh token tagged under `keys` as core tags them — what only the server can make — for
 * any session, generation and secret: how a test reaches the store with a token that passes the
 * tag check but was never issued (a restored backup, a leaked signing key, a store that is down).
 *
 * @example
 * ```ts
 * import { taggedRefreshToken } from "@tokens/core/testing";
 *
 * // Reaches the store (and fails with StoreUnavailableError when it is down):
 * await tokens.refresh(taggedRefreshToken(keys, "AAECAwQFBgcICQoLDA0ODw", 0));
 * ```
 */
export function taggedRefreshToken(
  keys: SigningKey[],
  sessionId: string,
  generation: number,
  secret: Uint8Array = newSecret(),
): string {
  return formatToken(
    { sessionId, generation, secret },
    new KeyRing(keys, undefined).tagKeys[0] as TagKey,
  );
}

/** A hash-shaped value (base64url of 32 bytes), as core stores. */
export function randomHash(): string {
  return randomText(32);
}

/** Resolves the rejection reason of `promise`; fails the test if it resolves instead. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  let value: unknown;
  try {
    value = await promise;
  } catch (error) {
    return error;
  }
  return expect.fail(`expected a rejection, got ${JSON.stringify(value)?.slice(0, 200)}`);
}

/**
 * The shape of a tokens error, checked structurally so that it holds even when the suite and
 * the adapter load two copies of `@tokens/core` (as CommonJS and ESM builds can).
 */
export function tokensError(code: string, reason: TokensErrorReason): Record<string, unknown> {
  return { code, reason };
}

export async function expectGrantError(
  promise: Promise<unknown>,
  reason: TokensErrorReason,
): Promise<void> {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(Error);
  expect(error).toMatchObject({
    name: "InvalidGrantError",
    ...tokensError("invalid_grant", reason),
  });
}

export function isStoreUnavailable(error: unknown): boolean {
  return (
    error instanceof Error &&
    error.name === "StoreUnavailableError" &&
    (error as { code?: unknown }).code === "temporarily_unavailable" &&
    (error as { reason?: unknown }).reason === "store_unavailable"
  );
}

export function expectStoreUnavailable(error: unknown, operation: string): void {
  expect(
    isStoreUnavailable(error),
    `${operation} must reject with StoreUnavailableError, got ${String(error)}`,
  ).toBe(true);
}

/** Asserts that `actual` is a `Date` within 1 ms of `expected` (stores may round to ms). */
export function expectDate(actual: unknown, expected: Date | number, field = "date"): void {
  expect(actual, `${field} must come back as a Date`).toBeInstanceOf(Date);
  const want = typeof expected === "number" ? expected : expected.getTime();
  const diff = Math.abs((actual as Date).getTime() - want);
  expect(
    diff,
    `${field}: ${(actual as Date).toISOString()} vs ${new Date(want).toISOString()}`,
  ).toBeLessThanOrEqual(1);
}

export function expectDateOrNull(actual: unknown, expected: Date | null, field: string): void {
  if (expected === null) expect(actual, field).toBeNull();
  else expectDate(actual, expected, field);
}

/** Asserts that a session read back from the store equals what was written. */
export function expectSameSession(
  actual: SessionRecord | null | undefined,
  expected: SessionRecord,
): void {
  expect(actual, `session ${expected.id}`).toBeTruthy();
  const session = actual as SessionRecord;
  const {
    rotatedAt,
    createdAt,
    lastUsedAt,
    idleExpiresAt,
    expiresAt,
    purgeAfter,
    revokedAt,
    ...plain
  } = expected;
  expect({
    id: session.id,
    subject: session.subject,
    clientId: session.clientId,
    generation: session.generation,
    currentHash: session.currentHash,
    previousHash: session.previousHash,
    sealedSuccessor: session.sealedSuccessor,
    revokeReason: session.revokeReason,
    client: session.client,
    bindingKey: session.bindingKey,
    claims: session.claims,
    dpopJkt: session.dpopJkt,
  }).toEqual(plain);
  expectDateOrNull(session.rotatedAt, rotatedAt, "rotatedAt");
  expectDate(session.createdAt, createdAt, "createdAt");
  expectDate(session.lastUsedAt, lastUsedAt, "lastUsedAt");
  expectDate(session.idleExpiresAt, idleExpiresAt, "idleExpiresAt");
  expectDate(session.expiresAt, expiresAt, "expiresAt");
  expectDate(session.purgeAfter, purgeAfter, "purgeAfter");
  expectDateOrNull(session.revokedAt, revokedAt, "revokedAt");
}

/**
 * A fresh session record (generation 0), for calling a store's methods directly; any field can
 * be set, and `at` moves its instants.
 *
 * @example
 * ```ts
 * import { rotationOf, sessionRecord } from "@tokens/core/testing";
 *
 * const session = sessionRecord({ subject: "user-1" });
 * await store.createSession(session);
 * expect(await store.rotate(rotationOf(session, Date.now()))).not.toBeNull();
 * ```
 */
export function sessionRecord(
  overrides: Partial<SessionRecord> & { at?: number } = {},
): SessionRecord {
  const { at = Date.now(), ...fields } = overrides;
  const createdAt = new Date(at);
  const session: SessionRecord = {
    id: randomText(),
    subject: newSubject(),
    clientId: "default",
    generation: 0,
    currentHash: randomHash(),
    previousHash: null,
    sealedSuccessor: null,
    rotatedAt: null,
    createdAt,
    lastUsedAt: createdAt,
    idleExpiresAt: new Date(at + HOUR),
    expiresAt: new Date(at + DAY),
    purgeAfter: new Date(0),
    revokedAt: null,
    revokeReason: null,
    client: null,
    bindingKey: null,
    claims: null,
    dpopJkt: null,
    ...fields,
  };
  // Unless a test sets it, the coarsest bound there is: the idle deadline itself.
  if (fields.purgeAfter === undefined) {
    session.purgeAfter = new Date(
      Math.min(session.idleExpiresAt.getTime(), session.expiresAt.getTime()),
    );
  }
  return session;
}

/**
 * The rotation of `session` a core refresh at `at` would ask for: same client, same binding;
 * `overrides` replaces any field (another `expectedHash`, no `bindingKey`, …).
 *
 * @example
 * ```ts
 * import { rotationOf } from "@tokens/core/testing";
 *
 * const spent = rotationOf(session, Date.now(), { expectedHash: session.previousHash ?? "" });
 * expect(await store.rotate(spent)).toBeNull();
 * ```
 */
export function rotationOf(
  session: SessionRecord,
  at: number,
  overrides: Partial<Rotation> = {},
): Rotation {
  return {
    sessionId: session.id,
    expectedHash: session.currentHash,
    successorHash: randomHash(),
    generation: session.generation + 1,
    sealedSuccessor: randomText(32),
    rotatedAt: new Date(at),
    idleExpiresAt: new Date(at + HOUR),
    purgeAfter: new Date(at + HOUR - MINUTE),
    clientId: session.clientId,
    bindingKey: session.bindingKey,
    dpopJkt: session.dpopJkt,
    ...overrides,
  };
}

/**
 * The session as `rotate` must leave (and return) it after `rotation`, spelled out here apart
 * from core's `rotatedSession`, so that the suite does not check stores with their own helper.
 */
export function rotatedBy(session: SessionRecord, rotation: Rotation): SessionRecord {
  const end = session.expiresAt.getTime();
  return {
    ...session,
    generation: rotation.generation,
    previousHash: rotation.expectedHash,
    currentHash: rotation.successorHash,
    sealedSuccessor: rotation.sealedSuccessor,
    rotatedAt: rotation.rotatedAt,
    lastUsedAt: rotation.rotatedAt,
    idleExpiresAt: new Date(Math.min(rotation.idleExpiresAt.getTime(), end)),
    purgeAfter: new Date(Math.min(rotation.purgeAfter.getTime(), end)),
  };
}

/**
 * Retries `operation` while it rejects with `StoreUnavailableError`: after killed connections a
 * store may need a few attempts to reconnect, which is allowed; giving wrong answers is not.
 */
export async function recovering<T>(operation: () => Promise<T>, attempts = 20): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!isStoreUnavailable(error) || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}
