import {
  createTokens,
  generateSigningKey,
  type SessionRecord,
  sessionFields,
  type TokenStore,
} from "@tokens/core";
import { issuedElsewhere } from "@tokens/core/testing";
import { expect, it } from "vitest";
import { DPOP_BINDING_MIGRATION, SESSION_ROW_MIGRATION } from "./databases.js";

/** A database with the migrations before one of them (the upgrade's) applied. */
export interface PreUpgradeDatabase {
  /** Runs a script of one or more statements. */
  exec(sql: string): Promise<void>;
  /** The names of the tables the database holds. */
  tables(): Promise<string[]>;
  /** An instant as a SQL literal of the provider, as Prisma writes it. */
  literal(date: Date): string;
  /** The upgrade's migration and any after it. */
  upgrade: string[];
  /** A store over the database, created after the upgrade. */
  store(): TokenStore;
  close(): Promise<void>;
}

/** Opens a database with the migrations before `migration` applied. */
export type OpenBefore = (migration: string) => Promise<PreUpgradeDatabase>;

const HOUR = 3_600_000;

/**
 * The statement that writes `session` as the release before DPoP binding did: every column but
 * `dpop_jkt`, which its table did not have.
 */
function insertBeforeDpop(db: PreUpgradeDatabase, session: SessionRecord): string {
  const { dpopJkt: _notYet, ...fields } = sessionFields(session);
  // The model's @map names are its field names in snake case.
  const columns = Object.keys(fields).map((field) =>
    field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`),
  );
  const literal = (value: unknown) =>
    value === null
      ? "NULL"
      : value instanceof Date
        ? db.literal(value)
        : typeof value === "number"
          ? String(value)
          : `'${(typeof value === "string" ? value : JSON.stringify(value)).replaceAll("'", "''")}'`;
  return `INSERT INTO tokens_sessions (${columns.join(", ")})
    VALUES (${Object.values(fields).map(literal).join(", ")})`;
}

/**
 * The upgrade to one row per session: a session issued before it (rows the old way: the session
 * and its tokens) is revoked `token_format_upgrade`, an already revoked one keeps its reason, the
 * token table is gone, and a session issued after it refreshes. And the upgrade to DPoP binding:
 * a session issued before it stays unbound and refreshes.
 */
export function itUpgrades(open: OpenBefore): void {
  it("the session-row migration revokes pre-upgrade sessions, drops the token table, and new sessions refresh", async () => {
    const db = await open(SESSION_ROW_MIGRATION);
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

  it("the DPoP binding migration: a session of before it keeps refreshing, unbound", async () => {
    const db = await open(DPOP_BINDING_MIGRATION);
    try {
      const keys = [await generateSigningKey("EdDSA")];
      const config = { issuer: "https://issuer.upgrade.test", audience: "api", keys };
      // The release before wrote the session.
      const client = { deviceId: "phone" };
      const { issued, session } = await issuedElsewhere(
        { ...config, store: db.store() },
        { subject: "pre-dpop-user", client },
      );
      await db.exec(insertBeforeDpop(db, session));
      for (const script of db.upgrade) await db.exec(script);

      const store = db.store();
      expect(await store.getSession(session.id)).toMatchObject({ client, dpopJkt: null });
      const tokens = createTokens({ ...config, store });
      const refreshed = await tokens.refresh(issued.refresh_token, { client });
      const again = await tokens.refresh(refreshed.refresh_token, { client });
      expect(again.refresh_token).not.toBe(refreshed.refresh_token);
      expect(await store.getSession(session.id)).toMatchObject({ generation: 2, dpopJkt: null });
    } finally {
      await db.close();
    }
  });
}
