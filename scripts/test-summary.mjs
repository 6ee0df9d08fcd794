#!/usr/bin/env node
// Reads vitest's JSON report and prints, as its last line, `N passed, N failed, N skipped`.
//
// With TOKENS_REQUIRE_SERVERS=1 (CI sets it) a skipped test that belongs to a PostgreSQL,
// MariaDB/MySQL or MongoDB suite is an error: those servers run on every CI machine (MongoDB's
// wire protocol through the FerretDB the MongoDB projects start), so such a skip means a suite
// silently stopped testing its database. The one exception: a conformance race test whose name
// carries the marker of a server without atomic conditional writes (NON_ATOMIC_SERVER in
// @tokens/core/testing, FerretDB 1.x), registered as skipped on purpose with its reason; it is
// still counted as skipped.
//
// Usage: node scripts/test-summary.mjs <report.json>
// Exit: 0 when nothing failed (and, if required, no server suite skipped); 1 otherwise.
import { readFileSync } from "node:fs";
import { relative } from "node:path";

const reportPath = process.argv[2];
if (!reportPath) {
  console.error("usage: node scripts/test-summary.mjs <vitest-json-report>");
  process.exit(2);
}

let report;
try {
  report = JSON.parse(readFileSync(reportPath, "utf8"));
} catch (error) {
  console.error(`test-summary: cannot read the vitest report ${reportPath}: ${error.message}`);
  console.log("0 passed, 1 failed, 0 skipped");
  process.exit(1);
}

// Suites CI must run: the database servers and the Debian Chromium it installs.
const serverBacked = /postgres|mariadb|mysql|mongo|ferretdb|chromium/i;
// biome-ignore lint/suspicious/noUndeclaredEnvVars: a CI switch for this script, not an input of a turbo task
const requireServers = process.env.TOKENS_REQUIRE_SERVERS === "1";
// NON_ATOMIC_SERVER from packages/core/src/testing/harness.ts (this script imports nothing built).
const NON_ATOMIC_SERVER = "[server without atomic conditional writes:";

let passed = 0;
let failed = 0;
let skipped = 0;
const serverSkips = [];
const brokenFiles = [];

for (const file of report.testResults ?? []) {
  const name = relative(process.cwd(), file.name);
  let fileFailures = 0;
  for (const test of file.assertionResults ?? []) {
    if (test.status === "passed") passed += 1;
    else if (test.status === "failed") {
      failed += 1;
      fileFailures += 1;
    } else {
      // skipped, pending, todo, disabled
      skipped += 1;
      const declared = test.fullName.includes(NON_ATOMIC_SERVER);
      if (!declared && serverBacked.test(`${name} ${test.fullName}`))
        serverSkips.push(`${name} › ${test.fullName}`);
    }
  }
  // A file that failed without a failing test did not load, or a hook threw: count it once, so
  // a broken suite can never read as green.
  if (file.status === "failed" && fileFailures === 0) {
    failed += 1;
    brokenFiles.push(`${name}: ${(file.message ?? "").split("\n")[0]}`);
  }
}

for (const line of brokenFiles)
  console.error(`test-summary: suite failed outside any test: ${line}`);

let ok = failed === 0;
if (requireServers && serverSkips.length > 0) {
  ok = false;
  console.error(
    `test-summary: ${serverSkips.length} PostgreSQL/MariaDB/MongoDB test(s) skipped, but TOKENS_REQUIRE_SERVERS=1 requires them to run:`,
  );
  for (const line of serverSkips.slice(0, 20)) console.error(`  - ${line}`);
  if (serverSkips.length > 20) console.error(`  … and ${serverSkips.length - 20} more`);
}
if (passed + failed === 0) {
  ok = false;
  console.error("test-summary: no test ran");
}

console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(ok ? 0 : 1);
