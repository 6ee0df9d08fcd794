import type { SessionRecord } from "@tokens/core";
import { rotationOf as coreRotationOf } from "@tokens/core/testing";

/** The rotation core would ask for `session` now (spending `expectedHash`). */
export function rotationOf(session: SessionRecord, expectedHash = session.currentHash) {
  return coreRotationOf(session, Date.now(), { expectedHash });
}

/** A driver adapter factory's stand-in that records the SQL every connection of it runs. */
export function recordingAdapter<F extends { connect(): Promise<object> }>(
  factory: F,
): { adapter: F; statements: string[] } {
  const statements: string[] = [];
  const adapter = Object.create(factory) as F;
  adapter.connect = async () => {
    const connected = (await factory.connect()) as Record<string, unknown>;
    for (const method of ["queryRaw", "executeRaw"]) {
      const run = (connected[method] as (query: { sql: string }) => Promise<unknown>).bind(
        connected,
      );
      connected[method] = (query: { sql: string }) => {
        statements.push(query.sql);
        return run(query);
      };
    }
    return connected;
  };
  return { adapter, statements };
}

/** The statements `run` sent, out of those `statements` records. */
export async function sentDuring(
  statements: string[],
  run: () => Promise<unknown>,
): Promise<string[]> {
  statements.length = 0;
  await run();
  return [...statements];
}
