import { randomUUID } from "node:crypto";
import type { Rotation, SessionRecord } from "@tokens/core";

const HOUR = 3_600_000;

/** A live session record, created at `at`, as core would issue it. */
export function newSession(at = Date.now()): SessionRecord {
  const createdAt = new Date(at);
  return {
    id: randomUUID(),
    subject: `user-${randomUUID()}`,
    clientId: "default",
    generation: 0,
    currentHash: randomUUID(),
    previousHash: null,
    sealedSuccessor: null,
    rotatedAt: null,
    createdAt,
    lastUsedAt: createdAt,
    idleExpiresAt: new Date(at + HOUR),
    expiresAt: new Date(at + 24 * HOUR),
    purgeAfter: new Date(at + HOUR),
    revokedAt: null,
    revokeReason: null,
    client: null,
    bindingKey: null,
    claims: null,
  };
}

/** The rotation core would ask for `session` now (spending `expectedHash`). */
export function rotationOf(session: SessionRecord, expectedHash = session.currentHash): Rotation {
  const rotatedAt = new Date();
  return {
    sessionId: session.id,
    expectedHash,
    successorHash: randomUUID(),
    generation: session.generation + 1,
    sealedSuccessor: randomUUID(),
    rotatedAt,
    idleExpiresAt: new Date(rotatedAt.getTime() + HOUR),
    purgeAfter: new Date(rotatedAt.getTime() + HOUR),
  };
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
