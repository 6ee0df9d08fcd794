import { InvalidGrantError, InvalidRequestError, StoreUnavailableError } from "./errors.js";
import { tokenResponse } from "./internal/access-token.js";
import { bindingKey, bindingMismatches } from "./internal/binding.js";
import { timingSafeEqual } from "./internal/bytes.js";
import type { Context } from "./internal/context.js";
import { accessTokenKey, checkDpopKey, presentedProof } from "./internal/dpop.js";
import { purgeAfter } from "./internal/expiry.js";
import { clientContext, requireString } from "./internal/input.js";
import {
  formatToken,
  hashSecret,
  hasValidTag,
  newSecret,
  openSealed,
  type ParsedToken,
  parseToken,
  sealSecret,
  type TagKey,
} from "./internal/refresh-token.js";
import { storeCall } from "./internal/store-call.js";
import type { ClientContext, SessionRecord } from "./store.js";
import type { DpopRequest, RefreshOptions, TokenResponse } from "./types.js";

const MAX_TOKEN_LENGTH = 4096;

/**
 * Exchanges a refresh token for a new pair. See `Tokens.refresh`.
 *
 * The token names its session and generation under a tag only core can make, so a forgery never
 * reaches the store. The common case — the live token of a live session, from the client it is
 * bound to — is then one conditional write of the session row, by primary key. When that write
 * is refused, the session is read and the presented token classified against it:
 * - the live token → refused for its binding, or (a lost race, a moved clock) rotated again;
 * - the immediate predecessor, within the grace window and from the same client context → the
 *   same live successor, no writes;
 * - an older generation → reuse: the session is revoked;
 * - anything else (a generation the session never reached, as after a restore from backup) →
 *   not recognized, and the session is left alone.
 *
 * DPoP: a proof is verified after the tag and before the store is asked, and the rotation names
 * its key, so the one write also refuses a bound session without its key. On the read path a
 * bound session is checked for its key before anything else: a request without it is refused
 * and never revokes, never counts as reuse, never gets the grace answer.
 */
export async function refresh(
  ctx: Context,
  presented: unknown,
  options: RefreshOptions = {},
): Promise<TokenResponse> {
  const token = presentedToken(ctx, presented);
  const client = clientContext(options?.client);
  const clientId =
    options?.clientId === undefined ? undefined : requireString("client_id", options.clientId);
  const request = presentedProof(options?.dpop);
  // The proven key; `undefined` while a proof is left unchecked because no client uses DPoP
  // (it is checked only if the session turns out to be bound).
  let proven: string | null | undefined = null;
  if (request) proven = ctx.dpop.inUse ? await ctx.dpop.verify(request) : undefined;
  const hash = hashSecret(token.secret);

  // An IP policy compares networks, which a store cannot: the session is read first.
  if (ctx.config.binding.ip === "off") {
    const binding = bindingKey(client, ctx.config.binding);
    const rotated = await rotate(ctx, token, hash, clientId, binding, proven ?? null);
    if (rotated) return rotated;
  }
  // Two reads suffice: a lost compare-and-set means the row moved on (or was revoked), and
  // the second read classifies the token against the new state. The third is a safety net.
  for (let attempt = 0; attempt < 3; attempt++) {
    const session = await storeCall("refresh", ctx.store.getSession(token.sessionId));
    if (!session) throw notRecognized();
    const now = ctx.now();
    checkSession(session, now, clientId);
    if (session.dpopJkt !== null) {
      if (proven === undefined) proven = await ctx.dpop.verify(request as DpopRequest);
      checkDpopKey(session.dpopJkt, proven, "the session");
    }
    const mismatched = bindingMismatches(session.client, client, ctx.config.binding);

    if (timingSafeEqual(hash, session.currentHash)) {
      if (mismatched.length > 0) return bindingMismatch(ctx, session, mismatched, client, now);
      // The binding was just compared in full (a key from an older policy may differ).
      const rotated = await rotate(ctx, token, hash, clientId, undefined, proven ?? null);
      if (rotated) return rotated;
      continue;
    }
    // A spent token from another client context is never the grace case: it is reuse.
    if (mismatched.length === 0 && withinGrace(ctx, session, hash, now)) {
      const successor = openSealed(session.sealedSuccessor as string, token.secret);
      if (successor && timingSafeEqual(hashSecret(successor), session.currentHash)) {
        ctx.emit({
          type: "grace_replay",
          at: new Date(now),
          sessionId: session.id,
          subject: session.subject,
          generation: session.generation,
        });
        const live = { sessionId: session.id, generation: session.generation, secret: successor };
        const jkt = accessTokenKey(ctx, session, proven ?? null);
        return tokenResponse(ctx, session, formatToken(live, activeTagKey(ctx)), now, jkt);
      }
    }
    if (token.generation < session.generation)
      return reuseDetected(ctx, token, session, client, now);
    throw notRecognized();
  }
  throw new StoreUnavailableError("store did not settle the rotation");
}

/**
 * The presented token, parsed and with a valid tag: anything else is refused here, before the
 * store is asked, so a forged token that names a real session can neither revoke it nor cost a
 * database round trip.
 */
function presentedToken(ctx: Context, presented: unknown): ParsedToken {
  if (typeof presented !== "string" || presented.length === 0) {
    throw new InvalidRequestError("malformed", "refresh_token must be a non-empty string");
  }
  const token = presented.length > MAX_TOKEN_LENGTH ? null : parseToken(presented);
  if (!token) throw new InvalidGrantError("malformed", "refresh token is malformed");
  if (!hasValidTag(token, ctx.keys.tagKeys)) throw notRecognized();
  return token;
}

function notRecognized(): InvalidGrantError {
  return new InvalidGrantError("not_found", "refresh token not recognized");
}

function activeTagKey(ctx: Context): TagKey {
  return ctx.keys.tagKeys[0] as TagKey;
}

function checkSession(session: SessionRecord, now: number, clientId: string | undefined): void {
  if (session.revokedAt) throw new InvalidGrantError("revoked", "session has been revoked");
  if (now >= session.expiresAt.getTime()) {
    throw new InvalidGrantError("session_expired", "session reached its maximum lifetime");
  }
  if (now >= session.idleExpiresAt.getTime()) {
    throw new InvalidGrantError("expired", "refresh token expired");
  }
  if (clientId !== undefined && clientId !== session.clientId) {
    throw new InvalidGrantError("client_mismatch", "refresh token was issued to another client");
  }
}

/** The live token presented from another client context: refused, and revoked by policy. */
async function bindingMismatch(
  ctx: Context,
  session: SessionRecord,
  fields: Array<keyof ClientContext>,
  client: ClientContext | undefined,
  now: number,
): Promise<never> {
  const revoke = ctx.config.binding.onMismatch === "revoke";
  const at = new Date(now);
  if (revoke) {
    await storeCall("refresh", ctx.store.revokeSession(session.id, at, "binding_mismatch"));
  }
  ctx.emit({
    type: "binding_mismatch",
    at,
    sessionId: session.id,
    subject: session.subject,
    fields,
    client: client ?? null,
    revoked: revoke,
  });
  if (revoke) {
    ctx.emit({
      type: "session_revoked",
      at,
      sessionId: session.id,
      subject: session.subject,
      reason: "binding_mismatch",
    });
  }
  throw new InvalidGrantError(
    "binding_mismatch",
    `client context does not match the session (${fields.join(", ")})`,
  );
}

/**
 * The one conditional write: the store checks what `checkSession`, the binding key (when given)
 * and `checkDpopKey` would, and rotates in the same statement. `null` when it refused, for any
 * reason: the caller then reads the session and decides, with the exact error and events.
 */
async function rotate(
  ctx: Context,
  token: ParsedToken,
  hash: string,
  clientId: string | undefined,
  binding: string | null | undefined,
  proven: string | null,
): Promise<TokenResponse | null> {
  const now = ctx.now();
  const secret = newSecret();
  const generation = token.generation + 1;
  const rotatedAt = new Date(now);
  const idleExpiresAt = now + ctx.config.refreshIdleTtl * 1000;
  const session = await storeCall(
    "refresh",
    ctx.store.rotate({
      sessionId: token.sessionId,
      expectedHash: hash,
      successorHash: hashSecret(secret),
      generation,
      sealedSuccessor: sealSecret(secret, token.secret),
      rotatedAt,
      idleExpiresAt: new Date(idleExpiresAt),
      purgeAfter: purgeAfter(ctx.config, idleExpiresAt),
      ...(clientId === undefined ? {} : { clientId }),
      ...(binding === undefined ? {} : { bindingKey: binding }),
      dpopJkt: proven,
    }),
  );
  if (!session) return null;
  ctx.emit({
    type: "token_rotated",
    at: rotatedAt,
    sessionId: session.id,
    subject: session.subject,
    generation,
  });
  const successor = { sessionId: session.id, generation, secret };
  const jkt = accessTokenKey(ctx, session, proven);
  return tokenResponse(ctx, session, formatToken(successor, activeTagKey(ctx)), now, jkt);
}

/** The immediate predecessor of the live token, presented within the grace window. */
function withinGrace(ctx: Context, session: SessionRecord, hash: string, now: number): boolean {
  return (
    ctx.config.reuseGrace > 0 &&
    session.previousHash !== null &&
    session.sealedSuccessor !== null &&
    session.rotatedAt !== null &&
    timingSafeEqual(hash, session.previousHash) &&
    now < session.rotatedAt.getTime() + ctx.config.reuseGrace * 1000
  );
}

async function reuseDetected(
  ctx: Context,
  token: ParsedToken,
  session: SessionRecord,
  client: RefreshOptions["client"],
  now: number,
): Promise<never> {
  const at = new Date(now);
  const revoked = await storeCall("refresh", ctx.store.revokeSession(session.id, at, "reused"));
  ctx.emit({
    type: "reuse_detected",
    at,
    sessionId: session.id,
    subject: session.subject,
    presentedGeneration: token.generation,
    liveGeneration: session.generation,
    client: client ?? null,
  });
  if (revoked) {
    ctx.emit({
      type: "session_revoked",
      at,
      sessionId: session.id,
      subject: session.subject,
      reason: "reused",
    });
  }
  throw new InvalidGrantError(
    "reused",
    "refresh token was already used; the session has been revoked",
  );
}
