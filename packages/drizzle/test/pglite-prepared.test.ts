import { PGlite } from "@electric-sql/pglite";
import { createTokens, generateSigningKey, type SigningKey } from "@tokens/core";
import { drizzle } from "drizzle-orm/pglite";
import { migrate } from "drizzle-orm/pglite/migrator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drizzleStore } from "../src/index.js";
import { migrationsFolder } from "./support/databases.js";

// PGlite's Drizzle driver takes no statement name, so the store prepares the refresh on PGlite's
// one backend through PGlite's protocol API; these tests watch that backend's statements.
describe("PGlite prepared refresh statement", () => {
  let client: PGlite;
  let key: SigningKey;

  beforeAll(async () => {
    client = new PGlite();
    await migrate(drizzle({ client }), { migrationsFolder: migrationsFolder("pg") });
    key = await generateSigningKey("EdDSA");
  });
  afterAll(() => client.close());

  const open = (options: { preparedStatements?: boolean } = {}) =>
    createTokens({
      issuer: "https://auth.example.test",
      audience: "api",
      keys: [key],
      store: drizzleStore(drizzle({ client }), options),
      // Strict: presenting a spent token is reuse, never a grace replay.
      reuseGrace: 0,
    });
  const prepared = async () =>
    (
      await client.query<{ name: string }>("SELECT name FROM pg_prepared_statements ORDER BY name")
    ).rows.map((row) => row.name);
  /** The subject's sessions: their generations, and the rows of the whole table. */
  const rows = async (subject: string) =>
    (await client.query("SELECT generation FROM tokens_sessions WHERE subject = $1", [subject]))
      .rows;

  it("prepares the refresh by name, shared by identical text, and again when it is lost", async () => {
    const first = open();
    const second = open();
    const issued = await first.issue({ subject: "alice" });
    const refreshed = await first.refresh(issued.refresh_token);
    const names = await prepared();
    expect(names).toEqual([expect.stringMatching(/^tokens_[0-9a-f]{16}$/)]);
    await second.refresh((await second.issue({ subject: "bob" })).refresh_token);
    expect(await prepared()).toEqual(names);

    await client.query("DEALLOCATE ALL");
    const again = await first.refresh(refreshed.refresh_token);
    expect(await prepared()).toEqual(names);
    await first.refresh(again.refresh_token);
    // Each refresh, the one that found the statement gone too, rotated exactly once.
    expect(await rows("alice")).toEqual([{ generation: 3 }]);
    await expect(first.refresh(refreshed.refresh_token)).rejects.toMatchObject({
      reason: "reused",
    });
  });

  it("waits for a transaction open on the instance instead of running inside it", async () => {
    const tokens = open();
    const issued = await tokens.issue({ subject: "carol" });
    let refreshing: ReturnType<typeof tokens.refresh> | undefined;
    await client.transaction(async (tx) => {
      await tx.query("SELECT 1");
      refreshing = tokens.refresh(issued.refresh_token);
      await new Promise((resolve) => setTimeout(resolve, 20));
      await tx.rollback();
    });
    const refreshed = await (refreshing as ReturnType<typeof tokens.refresh>);
    // The rollback did not take the rotation with it: it ran after the transaction.
    expect(await rows("carol")).toEqual([{ generation: 1 }]);
    await tokens.refresh(refreshed.refresh_token);
    expect(await rows("carol")).toEqual([{ generation: 2 }]);
  });

  it("prepares nothing by name with preparedStatements: false", async () => {
    await client.query("DEALLOCATE ALL");
    const tokens = open({ preparedStatements: false });
    const refreshed = await tokens.refresh((await tokens.issue({ subject: "dave" })).refresh_token);
    await tokens.refresh(refreshed.refresh_token);
    expect(await prepared()).toEqual([]);
    expect(await rows("dave")).toEqual([{ generation: 2 }]);
  });
});
