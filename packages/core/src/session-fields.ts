import type { Rotation, SessionRecord, TokenStore } from "./store.js";

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
    dpopJkt: session.dpopJkt ?? null,
  };
}

/**
 * The session as a successful {@link TokenStore.rotate} leaves it: `session` (as read before or
 * after the write) with every field the rotation sets, the idle deadline and `purgeAfter` capped
 * at `expiresAt`, and not revoked (the write required that). For stores that cannot return the
 * written row from the write itself (MySQL has no `UPDATE … RETURNING`): read the row by id,
 * then take the rotation's values over whatever a later write may have changed since.
 *
 * @example
 * ```ts
 * import { rotatedSession } from "@tokens/core";
 *
 * if ((await db.execute(update, rotation)).affectedRows !== 1) return null;
 * return rotatedSession(toSession(await db.selectById(rotation.sessionId)), rotation);
 * ```
 */
export function rotatedSession(session: SessionRecord, rotation: Rotation): SessionRecord {
  const end = session.expiresAt.getTime();
  return {
    ...session,
    generation: rotation.generation,
    previousHash: rotation.expectedHash,
    currentHash: rotation.successorHash,
    sealedSuccessor: rotation.sealedSuccessor,
    rotatedAt: new Date(rotation.rotatedAt.getTime()),
    lastUsedAt: new Date(rotation.rotatedAt.getTime()),
    idleExpiresAt: new Date(Math.min(rotation.idleExpiresAt.getTime(), end)),
    purgeAfter: new Date(Math.min(rotation.purgeAfter.getTime(), end)),
    revokedAt: null,
    revokeReason: null,
  };
}
