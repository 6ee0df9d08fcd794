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
 * The fields of a session that no rotation changes: all a store needs to read back (or return
 * from its `UPDATE … RETURNING`) to answer a rotation, since {@link rotatedSession} takes every
 * other field from the rotation itself.
 *
 * @example
 * ```ts
 * import type { UnchangedByRotation } from "@tokens/core";
 *
 * const row: UnchangedByRotation = await db.selectUnchanged(rotation.sessionId);
 * ```
 */
export type UnchangedByRotation = Pick<
  SessionRecord,
  | "subject"
  | "clientId"
  | "createdAt"
  | "expiresAt"
  | "client"
  | "bindingKey"
  | "claims"
  | "dpopJkt"
>;

/**
 * The session as a successful {@link TokenStore.rotate} leaves it: the fields no rotation changes
 * from `session` (as read before or after the write, or returned by it), every other field from
 * the rotation, the idle deadline and `purgeAfter` capped at `expiresAt`, and not revoked (the
 * write required that). A store can therefore return (or read back) just the
 * {@link UnchangedByRotation} columns — less for the database to send on every refresh — and,
 * where it cannot return the written row from the write itself (MySQL has no
 * `UPDATE … RETURNING`), read them by id after the write, whatever a later write changed since.
 *
 * @example
 * ```ts
 * import { rotatedSession } from "@tokens/core";
 *
 * if ((await db.execute(update, rotation)).affectedRows !== 1) return null;
 * return rotatedSession(await db.selectUnchanged(rotation.sessionId), rotation);
 * ```
 */
export function rotatedSession(session: UnchangedByRotation, rotation: Rotation): SessionRecord {
  const end = session.expiresAt.getTime();
  return {
    id: rotation.sessionId,
    subject: session.subject,
    clientId: session.clientId,
    generation: rotation.generation,
    currentHash: rotation.successorHash,
    previousHash: rotation.expectedHash,
    sealedSuccessor: rotation.sealedSuccessor,
    rotatedAt: new Date(rotation.rotatedAt.getTime()),
    createdAt: session.createdAt,
    lastUsedAt: new Date(rotation.rotatedAt.getTime()),
    idleExpiresAt: new Date(Math.min(rotation.idleExpiresAt.getTime(), end)),
    expiresAt: session.expiresAt,
    purgeAfter: new Date(Math.min(rotation.purgeAfter.getTime(), end)),
    revokedAt: null,
    revokeReason: null,
    client: session.client,
    bindingKey: session.bindingKey,
    claims: session.claims,
    dpopJkt: session.dpopJkt,
  };
}
