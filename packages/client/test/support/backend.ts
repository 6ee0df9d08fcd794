import type { TokenStore, Tokens } from "@tokens/core";
import { memoryStore } from "@tokens/memory";
import type { WebHandler } from "../browser/page-server.js";

/**
 * The quickstart's factory, typed structurally: it is loaded from the example's source at run
 * time, so this package's typecheck does not compile the example (and its framework).
 */
interface QuickstartFactory {
  createQuickstart(options: {
    issuer: string;
    store?: TokenStore;
    accessTokenTtl?: number;
    reuseGrace?: number;
    /** Passed on in case the quickstart forwards it to createTokens (see `clock`). */
    now?: () => number;
  }): Promise<{ app: { fetch: WebHandler }; tokens: Tokens }>;
}

const QUICKSTART = new URL("../../../../examples/quickstart/src/index.ts", import.meta.url).href;

/** The quickstart server the browser tests run against, with what it did recorded. */
export interface Backend {
  app: WebHandler;
  tokens: Tokens;
  accessTokenTtl: number;
  /** Whether the server's clock can be moved (else waiting takes real time). */
  clock: boolean;
  /** Successful refresh-token rotations. */
  rotations(): number;
  /** Sessions revoked because a spent refresh token was presented. */
  reuseDetections(): number;
  /** Let `seconds` pass on the server. */
  elapse(seconds: number): Promise<void>;
  /** Resolve once the server refuses this access token as expired. */
  expire(accessToken: string): Promise<void>;
  liveSessions(): Promise<number>;
  /** Live sessions bound to a DPoP key, as the store holds them. */
  boundSessions(): Promise<number>;
}

/** The quickstart's demo user. */
export const DEMO_SUBJECT = "user_demo";

/**
 * Create the quickstart for `issuer` over a memory store that records rotations and
 * revocations. Reuse detection always revokes the session with reason `reused`, so the store
 * sees every detection the server makes.
 */
export async function startBackend(
  issuer: string,
  config: { accessTokenTtl: number; reuseGrace: number },
): Promise<Backend> {
  const { createQuickstart } = (await import(/* @vite-ignore */ QUICKSTART)) as QuickstartFactory;
  const inner = memoryStore();
  let rotations = 0;
  const revocations: string[] = [];
  const store: TokenStore = {
    ...inner,
    async rotate(rotation) {
      const rotated = await inner.rotate(rotation);
      if (rotated) rotations++;
      return rotated;
    },
    async revokeSession(id, at, reason) {
      const revoked = await inner.revokeSession(id, at, reason);
      if (revoked) revocations.push(reason);
      return revoked;
    },
  };
  let skew = 0;
  const { app, tokens } = await createQuickstart({
    issuer,
    store,
    ...config,
    now: () => Date.now() + skew,
  });

  // Does the quickstart use our clock? Issue a session a day ahead and look at its timestamp.
  skew = 86_400_000;
  const probe = await tokens.issue({ subject: "clock-probe" });
  skew = 0;
  const clock = probe.session.createdAt.getTime() > Date.now() + 3_600_000;
  await tokens.revokeSession(probe.session.id, "probe");
  if (!clock) console.warn("quickstart ignores `now`: browser tests wait in real time for expiry");

  const tolerance = tokens.config.clockTolerance;
  return {
    app: (request) => app.fetch(request),
    tokens,
    accessTokenTtl: tokens.config.accessTokenTtl,
    clock,
    rotations: () => rotations,
    reuseDetections: () => revocations.filter((reason) => reason === "reused").length,
    async elapse(seconds) {
      if (clock) skew += seconds * 1000;
      else await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    },
    async expire(accessToken) {
      if (clock) {
        skew += (tokens.config.accessTokenTtl + tolerance + 1) * 1000;
        return;
      }
      // Without a movable clock, wait until verification (with its tolerance) refuses it.
      for (;;) {
        const valid = await tokens.verifyAccessToken(accessToken).then(
          () => true,
          () => false,
        );
        if (!valid) return;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    },
    liveSessions: async () => (await tokens.listSessions(DEMO_SUBJECT)).length,
    boundSessions: async () => {
      const live = await inner.listSessions(DEMO_SUBJECT, new Date(Date.now() + skew));
      return live.filter((session) => session.dpopJkt !== null).length;
    },
  };
}
