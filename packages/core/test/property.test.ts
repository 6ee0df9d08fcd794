import { memoryStore } from "@tokens/memory";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import {
  createTokens,
  generateSigningKey,
  type SigningKey,
  type TokenResponse,
  type TokenStore,
  type Tokens,
  TokensError,
} from "../src/index.js";
import { unknownRefreshToken } from "../src/testing/harness.js";

/**
 * Model-based test: random sequences of operations run against tokens (over the memory store)
 * and against a small reference model of the rules; every outcome — success, or the error
 * reason — must agree.
 *
 * Time only moves by whole seconds plus 1 ms per step (issues move it 1 ms too). Every deadline
 * is an event time plus whole seconds, so with fewer than 1000 steps no instant ever lands
 * exactly on a deadline: the model need not guess which side of `<` versus `<=` core is on.
 * Where the rules leave an order open (a spent token of an expired session: expired or reused?)
 * the model accepts every reading and then follows the one core took.
 */

const SUBJECTS = ["alice", "bob", "carol"];
const ACCESS_TTL = 900;
const TOLERANCE = 5;
const UNKNOWN_TOKEN = unknownRefreshToken();
const MALFORMED = ["", "tokens_rt_short", `tokens_rt_${"!".repeat(91)}`, "Bearer x"];

type Pick =
  | { kind: "live" | "previous" | "any"; session: number; index: number }
  | { kind: "unknown" }
  | { kind: "malformed"; index: number };

type Op =
  | { op: "issue"; subject: number }
  | { op: "refresh"; pick: Pick }
  /** A client retry or a second tab: rotate the live token, wait, present the spent one. */
  | { op: "retry"; session: number; seconds: number }
  | { op: "revoke"; pick: Pick }
  | { op: "revokeSession"; session: number }
  | { op: "revokeSubject"; subject: number }
  | { op: "advance"; seconds: number }
  | { op: "list"; subject: number }
  | { op: "purge" }
  | { op: "verify"; session: number };

interface Rules {
  idle: number;
  maxAge: number;
  grace: number;
  retention: number;
  cap: number | undefined;
}

interface ModelSession {
  id: string;
  subject: string;
  createdAt: number;
  /** Refresh tokens by generation; the last is live. */
  tokens: string[];
  /** The latest access token and its `iat`. */
  access: { token: string; iat: number };
  rotatedAt: number | null;
  idleExpiresAt: number;
  expiresAt: number;
  revokedAt: number | null;
  purged: boolean;
}

type Outcome = { ok: true; response: TokenResponse } | { ok: false; reason: string };

const pick: fc.Arbitrary<Pick> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constantFrom("live" as const, "previous" as const, "any" as const),
      session: fc.nat({ max: 30 }),
      index: fc.nat({ max: 30 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "unknown" as const }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("malformed" as const), index: fc.nat({ max: 3 }) }),
  },
);

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant("issue" as const), subject: fc.nat({ max: 2 }) }),
  },
  { weight: 12, arbitrary: fc.record({ op: fc.constant("refresh" as const), pick }) },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant("retry" as const),
      session: fc.nat({ max: 30 }),
      seconds: fc.nat({ max: 12 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("revoke" as const), pick }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("revokeSession" as const),
      session: fc.nat({ max: 30 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("revokeSubject" as const),
      subject: fc.nat({ max: 2 }),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant("advance" as const),
      // Mostly within the grace window or the idle TTL; sometimes past everything.
      seconds: fc.oneof(
        { weight: 3, arbitrary: fc.nat({ max: 15 }) },
        { weight: 3, arbitrary: fc.nat({ max: 200 }) },
        { weight: 1, arbitrary: fc.nat({ max: 3000 }) },
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant("list" as const), subject: fc.nat({ max: 2 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ op: "purge" as const }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant("verify" as const), session: fc.nat({ max: 30 }) }),
  },
);

/** Sequences start with a few sessions, so that most operations have tokens to work on. */
const opening: fc.Arbitrary<Op[]> = fc.array(
  fc.record({ op: fc.constant("issue" as const), subject: fc.nat({ max: 2 }) }),
  { minLength: 1, maxLength: 3 },
);

const rules: fc.Arbitrary<Rules> = fc
  .record({
    idle: fc.integer({ min: 60, max: 600 }),
    ageFactor: fc.integer({ min: 1, max: 4 }),
    // Short windows, so that clock moves of a few seconds land on both sides of them.
    grace: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 10 })),
    retention: fc.integer({ min: 1, max: 600 }),
    cap: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  })
  .map(({ ageFactor, ...r }) => ({ ...r, maxAge: r.idle * ageFactor }));

/** Runs one sequence against core and the model, failing on the first disagreement. */
class Run {
  now = Date.UTC(2030, 0, 1, 12);
  readonly sessions: ModelSession[] = [];
  /** Every refresh token ever handed out → its session. */
  readonly owners = new Map<string, ModelSession>();
  readonly store: TokenStore = memoryStore();
  readonly tokens: Tokens;

  constructor(
    readonly rules: Rules,
    key: SigningKey,
  ) {
    this.tokens = createTokens({
      issuer: "https://issuer.property.test",
      audience: "api",
      keys: [key],
      store: this.store,
      now: () => this.now,
      accessTokenTtl: ACCESS_TTL,
      clockTolerance: TOLERANCE,
      refreshIdleTtl: rules.idle,
      sessionMaxAge: rules.maxAge,
      reuseGrace: rules.grace,
      purgeRetention: rules.retention,
      maxSessionsPerSubject: rules.cap,
    });
  }

  live(s: ModelSession): boolean {
    return (
      !s.purged && s.revokedAt === null && this.now < s.idleExpiresAt && this.now < s.expiresAt
    );
  }

  session(index: number): ModelSession | undefined {
    return this.sessions.length === 0 ? undefined : this.sessions[index % this.sessions.length];
  }

  token(p: Pick): string {
    if (p.kind === "unknown") return UNKNOWN_TOKEN;
    if (p.kind === "malformed") return MALFORMED[p.index % MALFORMED.length] as string;
    const s = this.session(p.session);
    if (!s) return UNKNOWN_TOKEN;
    const last = s.tokens.length - 1;
    const generation =
      p.kind === "live"
        ? last
        : p.kind === "previous"
          ? Math.max(0, last - 1)
          : p.index % s.tokens.length;
    return s.tokens[generation] as string;
  }

  revoke(s: ModelSession): void {
    if (s.revokedAt === null) s.revokedAt = this.now;
  }

  /** Follows core where the model accepted more than one reading. */
  async resync(s: ModelSession): Promise<void> {
    const stored = await this.store.getSession(s.id);
    s.revokedAt = stored?.revokedAt ? stored.revokedAt.getTime() : null;
  }

  async apply(o: Op): Promise<void> {
    switch (o.op) {
      case "advance":
        this.now += o.seconds * 1000 + 1;
        return;
      case "issue":
        return this.issue(SUBJECTS[o.subject] as string);
      case "refresh":
        return this.refresh(this.token(o.pick));
      case "retry":
        await this.refresh(this.token({ kind: "live", session: o.session, index: 0 }));
        this.now += o.seconds * 1000 + 1;
        return this.refresh(this.token({ kind: "previous", session: o.session, index: 0 }));
      case "revoke":
        return this.revokeToken(this.token(o.pick));
      case "revokeSession":
        return this.revokeSession(o.session);
      case "revokeSubject":
        return this.revokeSubject(SUBJECTS[o.subject] as string);
      case "list":
        return this.list(SUBJECTS[o.subject] as string);
      case "purge":
        return this.purge();
      case "verify":
        return this.verify(o.session);
    }
  }

  async issue(subject: string): Promise<void> {
    this.now += 1;
    const response = await this.tokens.issue({ subject });
    const s: ModelSession = {
      id: response.session.id,
      subject,
      createdAt: this.now,
      tokens: [response.refresh_token],
      access: { token: response.access_token, iat: Math.floor(this.now / 1000) },
      rotatedAt: null,
      idleExpiresAt: this.now + Math.min(this.rules.idle, this.rules.maxAge) * 1000,
      expiresAt: this.now + this.rules.maxAge * 1000,
      revokedAt: null,
      purged: false,
    };
    expect(this.owners.has(response.refresh_token), "issued token is fresh").toBe(false);
    this.sessions.push(s);
    this.owners.set(response.refresh_token, s);
    expect(response.session.idleExpiresAt.getTime()).toBe(s.idleExpiresAt);
    expect(response.session.expiresAt.getTime()).toBe(s.expiresAt);
    const cap = this.rules.cap;
    if (cap !== undefined) {
      const live = this.sessions.filter((x) => x.subject === subject && this.live(x));
      for (const oldest of live.slice(0, Math.max(0, live.length - cap))) this.revoke(oldest);
    }
  }

  async refresh(token: string): Promise<void> {
    const outcome: Outcome = await this.tokens.refresh(token).then(
      (response) => ({ ok: true as const, response }),
      (error: unknown) => {
        if (!(error instanceof TokensError)) throw error;
        return { ok: false as const, reason: error.reason };
      },
    );
    const label = (o: Outcome) => (o.ok ? "success" : o.reason);

    if (MALFORMED.includes(token)) {
      expect(label(outcome)).toBe("malformed");
      return;
    }
    const s = this.owners.get(token);
    if (!s || s.purged) {
      expect(label(outcome)).toBe("not_found");
      return;
    }
    const generation = s.tokens.indexOf(token);
    const last = s.tokens.length - 1;
    const revoked = s.revokedAt !== null;
    const ended = this.now >= s.expiresAt;
    const idle = this.now >= s.idleExpiresAt;

    if (revoked || ended || idle) {
      const accepted = new Set<string>();
      if (revoked) accepted.add("revoked");
      if (ended) accepted.add("session_expired");
      else if (idle) accepted.add("expired");
      // A spent token of a dead session: reporting it as reuse is as right as reporting why
      // the session is dead.
      if (generation < last) accepted.add("reused");
      expect([...accepted], `refresh of generation ${generation}/${last}`).toContain(
        label(outcome),
      );
      if (!outcome.ok && outcome.reason === "reused") await this.resync(s);
      return;
    }
    if (generation === last) {
      expect(label(outcome), "refresh of the live token").toBe("success");
      const { response } = outcome as { ok: true; response: TokenResponse };
      expect(this.owners.has(response.refresh_token), "rotated token is fresh").toBe(false);
      s.tokens.push(response.refresh_token);
      this.owners.set(response.refresh_token, s);
      s.rotatedAt = this.now;
      s.idleExpiresAt = Math.min(this.now + this.rules.idle * 1000, s.expiresAt);
      this.checkResponse(s, response);
      return;
    }
    const rotatedAt = s.rotatedAt as number;
    if (
      generation === last - 1 &&
      this.rules.grace > 0 &&
      this.now - rotatedAt < this.rules.grace * 1000
    ) {
      expect(label(outcome), "predecessor within the grace window").toBe("success");
      const { response } = outcome as { ok: true; response: TokenResponse };
      expect(response.refresh_token, "grace replays the live token").toBe(s.tokens[last]);
      this.checkResponse(s, response);
      return;
    }
    expect(label(outcome), `spent token (generation ${generation}/${last})`).toBe("reused");
    this.revoke(s);
  }

  checkResponse(s: ModelSession, response: TokenResponse): void {
    expect(response.session.id).toBe(s.id);
    expect(response.session.idleExpiresAt.getTime()).toBe(s.idleExpiresAt);
    expect(response.session.expiresAt.getTime()).toBe(s.expiresAt);
    s.access = { token: response.access_token, iat: Math.floor(this.now / 1000) };
  }

  async revokeToken(token: string): Promise<void> {
    await expect(this.tokens.revoke(token)).resolves.toBeUndefined();
    const s = this.owners.get(token);
    if (s && !s.purged) this.revoke(s);
  }

  async revokeSession(index: number): Promise<void> {
    const s = this.session(index);
    if (!s) return;
    const result = await this.tokens.revokeSession(s.id);
    if (s.purged || s.revokedAt !== null) {
      expect(result, "revokeSession of a revoked or purged session").toBe(false);
    } else if (this.live(s)) {
      expect(result, "revokeSession of a live session").toBe(true);
      this.revoke(s);
    } else {
      // Expired, not revoked: whether that counts as "was live" is the implementation's call.
      await this.resync(s);
    }
  }

  async revokeSubject(subject: string): Promise<void> {
    const count = await this.tokens.revokeSubject(subject);
    const mine = this.sessions.filter((s) => s.subject === subject && !s.purged);
    const live = mine.filter((s) => this.live(s)).length;
    const unrevoked = mine.filter((s) => s.revokedAt === null).length;
    expect(count).toBeGreaterThanOrEqual(live);
    expect(count).toBeLessThanOrEqual(unrevoked);
    for (const s of mine) {
      if (this.live(s)) this.revoke(s);
      else await this.resync(s);
    }
  }

  async list(subject: string): Promise<void> {
    const listed = await this.tokens.listSessions(subject);
    const expected = this.sessions
      .filter((s) => s.subject === subject && this.live(s))
      .sort((a, b) => a.createdAt - b.createdAt);
    expect(listed.map((s) => s.id)).toEqual(expected.map((s) => s.id));
  }

  async purge(): Promise<void> {
    const before = this.now - this.rules.retention * 1000;
    const ended = this.sessions.filter(
      (s) =>
        !s.purged &&
        Math.min(s.revokedAt ?? Number.POSITIVE_INFINITY, s.idleExpiresAt, s.expiresAt) < before,
    );
    expect(await this.tokens.purge({ batchSize: 2 })).toBe(ended.length);
    for (const s of ended) s.purged = true;
  }

  async verify(index: number): Promise<void> {
    const s = this.session(index);
    if (!s) return;
    const outcome = await this.tokens
      .verifyAccessToken(s.access.token, { checkSession: true })
      .then(
        (claims) => ({ ok: true as const, claims }),
        (error: unknown) => ({ ok: false as const, error }),
      );
    const secondsLeft = s.access.iat + ACCESS_TTL + TOLERANCE - Math.floor(this.now / 1000);
    if (Math.abs(secondsLeft) <= 1) return; // at the edge of exp: either answer is right
    if (this.live(s) && secondsLeft > 0) {
      expect(outcome.ok, "access token of a live session").toBe(true);
      if (outcome.ok) expect(outcome.claims.sid).toBe(s.id);
    } else {
      expect(outcome.ok, "access token of an ended session or past exp").toBe(false);
      if (!outcome.ok) expect(outcome.error).toMatchObject({ code: "invalid_token" });
    }
  }

  /** The store must agree with the model after every step: no extra writes, none missing. */
  async checkStore(): Promise<void> {
    for (const s of this.sessions) {
      const stored = await this.store.getSession(s.id);
      if (s.purged) {
        expect(stored, `purged session ${s.id}`).toBeNull();
        continue;
      }
      expect(stored?.generation, `generation of ${s.id}`).toBe(s.tokens.length - 1);
      expect(stored?.revokedAt?.getTime() ?? null, `revokedAt of ${s.id}`).toBe(s.revokedAt);
      expect(stored?.idleExpiresAt.getTime(), `idleExpiresAt of ${s.id}`).toBe(s.idleExpiresAt);
    }
  }
}

describe("core against a reference model", () => {
  let key: SigningKey;
  beforeAll(async () => {
    key = await generateSigningKey("EdDSA", { kid: "property" });
  });

  it("random sequences of issue, refresh, revoke, purge and clock moves agree with the model", async () => {
    await fc.assert(
      fc.asyncProperty(rules, opening, fc.array(op, { maxLength: 40 }), async (r, first, then) => {
        const run = new Run(r, key);
        for (const o of [...first, ...then]) {
          await run.apply(o);
          await run.checkStore();
        }
      }),
      { numRuns: 200 },
    );
  });
});
