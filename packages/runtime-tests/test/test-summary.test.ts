import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { NON_ATOMIC_SERVER } from "@tokens/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageDir } from "./runtimes.js";

/**
 * scripts/test-summary.mjs is the CI gate: its last line is the reported count, its exit code
 * decides whether a run that skipped a database suite passes. Fed hand-made vitest JSON reports.
 */
const script = join(packageDir, "..", "..", "scripts", "test-summary.mjs");
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tokens-summary-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Status = "passed" | "failed" | "skipped" | "pending" | "todo";
const file = (
  name: string,
  tests: Array<[string, Status]>,
  status?: "passed" | "failed",
  message = "",
) => ({
  name: `/repo/${name}`,
  status: status ?? (tests.some(([, s]) => s === "failed") ? "failed" : "passed"),
  message,
  assertionResults: tests.map(([fullName, s]) => ({ fullName, title: fullName, status: s })),
});

async function summarize(files: unknown[], env: Record<string, string> = {}) {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  await writeFile(path, JSON.stringify({ testResults: files }));
  const { TOKENS_REQUIRE_SERVERS: _, ...baseEnv } = process.env;
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [script, path], {
      env: { ...baseEnv, ...env },
    });
    return { code: 0, last: stdout.trim().split("\n").at(-1), stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, last: e.stdout.trim().split("\n").at(-1), stderr: e.stderr };
  }
}

describe("scripts/test-summary.mjs", () => {
  it("counts passed, failed and skipped tests", async () => {
    const result = await summarize([
      file("packages/core/test/a.test.ts", [
        ["a", "passed"],
        ["b", "passed"],
        ["c", "todo"],
      ]),
      file("packages/http/test/b.test.ts", [
        ["d", "failed"],
        ["e", "skipped"],
      ]),
    ]);
    expect(result).toMatchObject({ code: 1, last: "2 passed, 1 failed, 2 skipped" });
  });

  it("passes a clean run", async () => {
    const result = await summarize([file("packages/core/test/a.test.ts", [["a", "passed"]])]);
    expect(result).toMatchObject({ code: 0, last: "1 passed, 0 failed, 0 skipped" });
  });

  it("counts a file that failed to load as a failure", async () => {
    const result = await summarize([
      file("packages/core/test/a.test.ts", [["a", "passed"]]),
      file("packages/core/test/broken.test.ts", [], "failed", "SyntaxError: nope"),
    ]);
    expect(result.code).toBe(1);
    expect(result.last).toBe("1 passed, 1 failed, 0 skipped");
    expect(result.stderr).toContain("broken.test.ts: SyntaxError: nope");
  });

  it("fails on no test at all", async () => {
    const result = await summarize([]);
    expect(result).toMatchObject({ code: 1, last: "0 passed, 0 failed, 0 skipped" });
  });

  describe("with TOKENS_REQUIRE_SERVERS=1", () => {
    const required = { TOKENS_REQUIRE_SERVERS: "1" };

    it.each([
      [
        "a PostgreSQL suite (by test name)",
        "packages/drizzle/test/store.test.ts",
        "drizzle (PostgreSQL) rotates",
      ],
      [
        "a MariaDB suite (by test name)",
        "packages/prisma/test/store.test.ts",
        "prisma (MariaDB) rotates",
      ],
      ["a MySQL suite (by file name)", "packages/drizzle/test/mysql.test.ts", "rotates"],
    ])("fails when %s skipped", async (_, name, test) => {
      const result = await summarize(
        [file(name, [[test, "skipped"]]), file("packages/core/test/a.test.ts", [["a", "passed"]])],
        required,
      );
      expect(result.code).toBe(1);
      expect(result.last).toBe("1 passed, 0 failed, 1 skipped");
      expect(result.stderr).toContain(test);
    });

    it.each([
      [
        "the MongoDB package (by file name)",
        "packages/mongodb/test/conformance.test.ts",
        "rotates",
      ],
      [
        "the MongoDB example (by file name)",
        "examples/express-mongodb/test/smoke.test.ts",
        "logs in",
      ],
      [
        "a FerretDB suite (by test name)",
        "packages/x/test/a.test.ts",
        "on FerretDB v1.24.2 (SQLite) rotates",
      ],
    ])("fails when %s skipped", async (_, name, test) => {
      const result = await summarize(
        [file(name, [[test, "skipped"]]), file("packages/core/test/a.test.ts", [["a", "passed"]])],
        required,
      );
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(test);
    });

    it("allows only the skips marked for a server without atomic conditional writes, and counts them", async () => {
      const marked = `store.rotate > N concurrent rotate calls ${NON_ATOMIC_SERVER} FerretDB v1.24.2 is not atomic]`;
      const result = await summarize(
        [
          file("packages/mongodb/test/conformance.test.ts", [
            [marked, "skipped"],
            ["rotates", "passed"],
          ]),
        ],
        required,
      );
      expect(result).toMatchObject({ code: 0, last: "1 passed, 0 failed, 1 skipped" });

      const unmarked = await summarize(
        [
          file("packages/mongodb/test/conformance.test.ts", [
            [marked, "skipped"],
            ["store.rotate > N concurrent rotate calls", "skipped"],
          ]),
          file("packages/core/test/a.test.ts", [["a", "passed"]]),
        ],
        required,
      );
      expect(unmarked.code).toBe(1);
      expect(unmarked.last).toBe("1 passed, 0 failed, 2 skipped");
      expect(unmarked.stderr).toContain("1 PostgreSQL/MariaDB/MongoDB test(s) skipped");
      expect(unmarked.stderr).not.toContain(marked);
    });
  });

  it("lets server suites skip when servers are not required", async () => {
    const result = await summarize([
      file("packages/drizzle/test/store.test.ts", [["drizzle (PostgreSQL) rotates", "skipped"]]),
      file("packages/core/test/a.test.ts", [["a", "passed"]]),
    ]);
    expect(result).toMatchObject({ code: 0, last: "1 passed, 0 failed, 1 skipped" });
  });
});
