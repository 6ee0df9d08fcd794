import { createTokens, generateSigningKey, type SigningKey } from "@tokens/core";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { drizzleStore } from "../src/index.js";
import { describeWith, freshPostgresDatabase, migrationsFolder } from "./support/databases.js";

// The refresh runs as a named server-side prepared statement; these tests watch the server's
// list of them on the store's only connection.
describeWith("POSTGRES_URL", "PostgreSQL")("PostgreSQL prepared refresh statement", () => {
  let url = "";
  let key: SigningKey;
  const pools: pg.Pool[] = [];

  beforeAll(async () => {
    url = await freshPostgresDatabase(process.env.POSTGRES_URL ?? "", "tokens_drizzle_prepared");
    const setup = new pg.Pool({ connectionString: url, max: 1 });
    await migrate(drizzle({ client: setup }), { migrationsFolder: migrationsFolder("pg") });
    await setup.end();
    key = await generateSigningKey("EdDSA");
  });
  afterAll(() => Promise.all(pools.map((pool) => pool.end())));

  /** A tokens instance whose stores share one connection, so its prepared statements are known. */
  function open(...options: { preparedStatements?: boolean }[]) {
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    pools.push(pool);
    const db = drizzle({ client: pool });
    const instances = (options.length > 0 ? options : [{}]).map((each) =>
      createTokens({
        issuer: "https://auth.example.test",
        audience: "api",
        keys: [key],
        store: drizzleStore(db, each),
        // Strict: presenting a spent token is reuse, never a grace replay.
        reuseGrace: 0,
      }),
    );
    const prepared = async (): Promise<string[]> =>
      (await pool.query("SELECT name FROM pg_prepared_statements ORDER BY name")).rows.map(
        (row: { name: string }) => row.name,
      );
    // What a pooler that does not keep statements does: the connection forgets them.
    const forget = () => pool.query("DEALLOCATE ALL");
    return {
      tokens: instances[0] as (typeof instances)[number],
      instances,
      pool,
      prepared,
      forget,
    };
  }

  it("prepares the refresh by a name derived from its SQL text, shared by identical text", async () => {
    const { instances, prepared } = open({}, {});
    const [first, second] = instances as [(typeof instances)[0], (typeof instances)[0]];
    await first.refresh((await first.issue({ subject: "alice" })).refresh_token);
    const names = await prepared();
    expect(names).toEqual([expect.stringMatching(/^tokens_[0-9a-f]{16}$/)]);

    // Another store over the same tables: the same text, so the same name, on the same connection.
    await second.refresh((await second.issue({ subject: "bob" })).refresh_token);
    expect(await prepared()).toEqual(names);

    // Another shape (the client id checked too) is other text: a statement of its own.
    const app = { clientId: "app" };
    await first.refresh((await first.issue({ subject: "carol", ...app })).refresh_token, app);
    expect(await prepared()).toHaveLength(2);
  });

  it("recovers when the statement is lost, and prepares nothing by name from then on", async () => {
    const { tokens, pool, prepared, forget } = open();
    const issued = await tokens.issue({ subject: "dave" });
    const first = await tokens.refresh(issued.refresh_token);
    expect(await prepared()).toHaveLength(1);

    await forget();
    // The driver still believes the statement prepared: the server refuses it, the store retries unnamed.
    const second = await tokens.refresh(first.refresh_token);
    const third = await tokens.refresh(second.refresh_token);
    expect(await prepared()).toEqual([]);

    await forget();
    const fourth = await tokens.refresh(third.refresh_token);
    expect(await prepared()).toEqual([]);

    // Each refresh, the recovered one too, rotated exactly once: generation 4.
    const { rows } = await pool.query(
      "SELECT generation FROM tokens_sessions WHERE subject = 'dave'",
    );
    expect(rows).toEqual([{ generation: 4 }]);
    // The new tokens worked; the old ones are spent (strict: presenting one is reuse, which revokes).
    await expect(tokens.refresh(first.refresh_token)).rejects.toMatchObject({ reason: "reused" });
    await expect(tokens.refresh(fourth.refresh_token)).rejects.toMatchObject({
      reason: "revoked",
    });
  });

  it("recovers when the connection already has a statement of that name", async () => {
    const reference = open();
    const ref = reference.tokens;
    await ref.refresh((await ref.issue({ subject: "frank" })).refresh_token);
    const [name] = await reference.prepared();

    // What another client of a pooler that does not keep statements leaves on the connection.
    const { tokens, pool, prepared } = open();
    await pool.query(`PREPARE ${name} AS SELECT 1`);
    const first = await tokens.refresh((await tokens.issue({ subject: "grace" })).refresh_token);
    await tokens.refresh(first.refresh_token);
    // node-postgres' pool drops a connection whose query failed: the one with `name` is gone,
    // and its replacement has nothing prepared by name, since the store no longer names any.
    expect(await prepared()).toEqual([]);
    await expect(tokens.refresh(first.refresh_token)).rejects.toMatchObject({ reason: "reused" });
  });

  it("prepares nothing by name with preparedStatements: false", async () => {
    const { tokens, prepared } = open({ preparedStatements: false });
    const issued = await tokens.issue({ subject: "erin" });
    const refreshed = await tokens.refresh(issued.refresh_token);
    await tokens.refresh(refreshed.refresh_token);
    expect(await prepared()).toEqual([]);
  });
});
