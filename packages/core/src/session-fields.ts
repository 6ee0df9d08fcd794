import type { SessionRecord } from "./store.js";

/**
 * The session with exactly the contract's fields — no extra properties a caller may have
 * attached — and absent optional fields as `null`: the shape a store writes. Adapters use it so
 * that the field list lives in one place.
 *
 * @example
 * ```ts
 * import { sessionFields } from "@tokens/core";
 *
 * await db.insert(sessions).values(sessionFields(session));
 * ```
 */
export function sessionFields(session: SessionRecord): SessionRecord {
  return {
    id: session.id,
    subject: session.subject,
    clientId: session.clientId,
    generation: session.generation,
    currentHash: session.currentHash,
    previousHash: session.previousHash ?? null,
    sealedSuccessor: session.sealedSuccessor ?? null,
    rotatedAt: session.rotatedAt ?? null,
    createdAt: session.createdAt,
    lastUsedAt: session.lastUsedAt,
    idleExpiresAt: session.idleExpiresAt,
    expiresAt: session.expiresAt,
    purgeAfter: session.purgeAfter,
    revokedAt: session.revokedAt ?? null,
    revokeReason: session.revokeReason ?? null,
    client: session.client ?? null,
    bindingKey: session.bindingKey ?? null,
    claims: session.claims ?? null,
  };
}
