import { createTokens, generateSigningKey, type TokenStore } from "@tokens/core";
import { expect, it } from "vitest";

/** A database with the migrations before the session-row one applied. */
export interface PreUpgradeDatabase {
  /** Runs a script of one or more statements. */
  exec(sql: string): Promise<void>;
  /** The names of the tables the database holds. */
  tables(): Promise<string[]>;
  /** An instant as a SQL literal of the provider, as Prisma writes it. */
  literal(date: Date): string;
  /** The session-row migration and any after it. */
  upgrade: string[];
  /** A store over the database, created after the upgrade. */
  store(): TokenStore;
  close(): Promise<void>;
}

const HOUR = 3_600_000;

/**
 * The upgrade to one row per session: a session issued before it (rows the old way: the session
 * and its tokens) is revoked `token_format_upgrade`, an already revoked one keeps its reason, the
 * token table is gone, and a session issued after it refreshes.
 */
export function itUpgrades(open: () => Promise<PreUpgradeDatabase>): void {
  it("the session-row migration revokes pre-upgrade sessions, drops the token table, and new sessions refresh", async () => {
    const db = await open();
    try {
      const now = Date.now();
      const at = (offset: number) => db.literal(new Date(now + offset));
      for (const [id, revoked] of [
        ["old-live", "NULL, NULL"],
        ["old-logout", `${at(-HOUR)}, 'logout'`],
      ] as const) {
        await db.exec(`
          INSERT INTO tokens_sessions (id, subject, client_id, generation, current_hash, created_at,
            last_used_at, idle_expires_at, expires_at, revoked_at, revoke_reason)
          VALUES ('${id}', 'pre-upgrade-user', 'default', 1, '${id}-hash-1', ${at(-2 * HOUR)},
            ${at(-HOUR)}, ${at(HOUR)}, ${at(24 * HOUR)}, ${revoked});
          INSERT INTO tokens_refresh_tokens (hash, session_id, generation, created_at)
          VALUES ('${id}-hash-0', '${id}', 0, ${at(-2 * HOUR)}),
                 ('${id}-hash-1', '${id}', 1, ${at(-HOUR)});`);
      }
      for (const script of db.upgrade) await db.exec(script);

      expect(await db.tables()).not.toContain("tokens_refresh_tokens");
      const store = db.store();
      const live = await store.getSession("old-live");
      expect(live).toMatchObject({ revokeReason: "token_format_upgrade", generation: 1 });
      expect(live?.revokedAt?.getTime()).toBeGreaterThanOrEqual(now - 60_000);
      expect(live?.purgeAfter.getTime()).toBeLessThanOrEqual(live?.revokedAt?.getTime() as number);
      const loggedOut = await store.getSession("old-logout");
      expect(loggedOut).toMatchObject({ revokeReason: "logout" });
      expect(loggedOut?.purgeAfter.getTime()).toBe(loggedOut?.revokedAt?.getTime());
      expect(await store.listSessions("pre-upgrade-user", new Date())).toEqual([]);

      const tokens = createTokens({
        issuer: "https://issuer.upgrade.test",
        audience: "https://api.upgrade.test",
        keys: [await generateSigningKey("EdDSA")],
        store,
      });
      const issued = await tokens.issue({ subject: "post-upgrade-user" });
      const refreshed = await tokens.refresh(issued.refresh_token);
      expect(refreshed.refresh_token).not.toBe(issued.refresh_token);
      expect(await tokens.refresh(refreshed.refresh_token)).toHaveProperty("access_token");
    } finally {
      await db.close();
    }
  });
}
