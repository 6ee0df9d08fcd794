import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAdaptorServer } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createQuickstart, type Quickstart } from "../../quickstart/src/index.js";
import { runCli } from "../src/cli.js";

describe("native-cli against the quickstart server", () => {
  let server: Server;
  let quickstart: Quickstart;
  let dir: string;
  let tokenFile: string;

  beforeAll(async () => {
    server = createAdaptorServer({
      fetch: (request, env) => quickstart.app.fetch(request, env),
    }) as Server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    quickstart = await createQuickstart({ issuer: base });
    dir = await mkdtemp(join(tmpdir(), "native-cli-"));
    tokenFile = join(dir, "state", "refresh-token");
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  async function cli(...argv: string[]) {
    const lines: string[] = [];
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const code = await runCli(argv, { server: url, tokenFile, out: (l) => lines.push(l) });
    return { code, output: lines.join("\n") };
  }

  it("logs in, calls /api/me with a refreshed token, and ends the session on reuse", async () => {
    expect(await cli("login", "demo", "wrong")).toMatchObject({ code: 1 });
    expect(await cli("login", "demo", "demo")).toEqual({ code: 0, output: "logged in" });
    const first = await readFile(tokenFile, "utf8");
    expect(first).toMatch(/^tokens_rt_/);
    expect((await stat(tokenFile)).mode & 0o777).toBe(0o600);

    // A new process has no access token: it refreshes first, and the rotated token replaces the
    // stored one.
    const me = await cli("me");
    expect(me.code).toBe(0);
    expect(JSON.parse(me.output)).toMatchObject({ sub: "user_demo" });
    const second = await readFile(tokenFile, "utf8");
    expect(second).toMatch(/^tokens_rt_/);
    expect(second).not.toBe(first);
    expect((await cli("me")).code).toBe(0);
    const third = await readFile(tokenFile, "utf8");
    expect((await stat(tokenFile)).mode & 0o777).toBe(0o600);

    // A stale copy of the file (a backup, a stolen token) is replayed: the server sees reuse,
    // revokes the session, and the CLI forgets the token.
    await writeFile(tokenFile, first, { mode: 0o600 });
    const replay = await cli("me");
    expect(replay.code).toBe(1);
    expect(replay.output).toMatch(/^session ended/);
    await expect(readFile(tokenFile, "utf8")).rejects.toMatchObject({ code: "ENOENT" });

    // The live token died with its family.
    await writeFile(tokenFile, third, { mode: 0o600 });
    expect(await cli("me")).toMatchObject({ code: 1 });
  });

  it("logs out: the server revokes the session and the file is removed", async () => {
    expect((await cli("login", "demo", "demo")).code).toBe(0);
    const token = await readFile(tokenFile, "utf8");
    expect(await cli("logout")).toEqual({ code: 0, output: "logged out" });
    await expect(readFile(tokenFile, "utf8")).rejects.toMatchObject({ code: "ENOENT" });
    await writeFile(tokenFile, token, { mode: 0o600 });
    expect(await cli("me")).toMatchObject({ code: 1 });
  });
});
