import { InvalidGrantError, InvalidRequestError, StoreUnavailableError } from "./errors.js";
import { signAccessToken, tokenResponse } from "./internal/access-token.js";
import { bindingKey, bindingMismatches } from "./internal/binding.js";
import { timingSafeEqual } from "./internal/bytes.js";
import type { Context } from "./internal/context.js";
import { clientContext, requireString } from "./internal/input.js";
import {
  formatToken,
  hashSecret,
  newSecret,
  openSealed,
  parseToken,
  sealSecret,
} from "./internal/refresh-token.js";
import { storeCall } from "./internal/store-call.js";
import type { ClientContext, SessionRecord, TokenWithSession } from "./store.js";
import type { RefreshOptions, TokenResponse } from "./types.js";

const MAX_TOKEN_LENGTH = 4096;

/**
 * Exchanges a refresh token for a new pair. See `Tokens.refresh`.
 *
 * The common case — the live token of a live session, from the client it is bound to — is one
 * store call when the store implements `rotateLive`. Anything else (or a store without it) takes
 * the full path, where the presented token is classified against its session row:
 * - the live token → compare-and-set rotation (refused if the client binding differs); a lost
 *   race re-reads and lands in a case below;
 * - the immediate predecessor, within the grace window and from the same client context → the
 *   same live successor, no writes;
 * - any other token of the family → reuse: the session is revoked.
 */
export async function refresh(
  ctx: Context,
  presented: unknown,
  options: RefreshOptions = {},
): Promise<TokenResponse> {
  const secret = presentedSecret(presented);
  const client = clientContext(options?.client);
  const clientId =
    options?.clientId === undefined ? undefined : requireString("client_id", options.clientId);
  const hash = hashSecret(secret);

  const live = await rotateLive(ctx, secret, hash, client, clientId);
  if (live) return live;

  // Two reads suffice: a lost compare-and-set means the row moved on (or was revoked), and
  // the second read classifies the token against the new state. The third is a safety net.
  for (let attempt = 0; attempt < 3; attempt++) {
    const found = await storeCall("refresh", ctx.store.findToken(hash));
    if (!found) throw new InvalidGrantError("not_found", "refresh token not recognized");
    const now = ctx.now();
    const { session } = found;
    checkSession(session, now, clientId);
    const mismatched = bindingMismatches(session.client, client, ctx.config.binding);

    if (timingSafeEqual(hash, session.currentHash)) {
      if (mismatched.length > 0) return bindingMismatch(ctx, session, mismatched, client, now);
      const rotated = await rotate(ctx, session, secret, hash, now);
      if (rotated) return rotated;
      continue;
    }
    // A spent token from another client context is never the grace case: it is reuse.
    if (mismatched.length === 0 && withinGrace(ctx, session, hash, now)) {
      const successor = openSealed(session.sealedSuccessor as string, secret);
      if (successor && timingSafeEqual(hashSecret(successor), session.currentHash)) {
        ctx.emit({
          type: "grace_replay",
          at: new Date(now),
          sessionId: session.id,
          subject: session.subject,
          generation: session.generation,
        });
        return tokenResponse(ctx, session, formatToken(successor), now);
      }
    }
    return reuseDetected(ctx, found, client, now);
  }
  throw new StoreUnavailableError("store did not settle the rotation");
}

function presentedSecret(presented: unknown): Uint8Array {
  if (typeof presented !== "string" || presented.length === 0) {
    throw new InvalidRequestError("malformed", "refresh_token must be a non-empty string");
  }
  const secret = presented.length > MAX_TOKEN_LENGTH ? null : parseToken(presented);
  if (!secret) throw new InvalidGrantError("malformed", "refresh token is malformed");
  return secret;
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

async function rotate(
  ctx: Context,
  session: SessionRecord,
  secret: Uint8Array,
  hash: string,
  now: number,
): Promise<TokenResponse | null> {
  const successor = newSecret();
  const successorHash = hashSecret(successor);
  const rotatedAt = new Date(now);
  const idleExpiresAt = new Date(
    Math.min(now + ctx.config.refreshIdleTtl * 1000, session.expiresAt.getTime()),
  );
  const generation = session.generation + 1;
  // The access token depends only on the session's identity, not on the rotation: sign it
  // while the store works, and drop it if the compare-and-set is lost.
  const accessToken = signAccessToken(ctx, session, now);
  accessToken.catch(() => {});
  const won = await storeCall(
    "refresh",
    ctx.store.rotate({
      sessionId: session.id,
      expectedHash: hash,
      successor: { hash: successorHash, sessionId: session.id, generation, createdAt: rotatedAt },
      sealedSuccessor: sealSecret(successor, secret),
      rotatedAt,
      idleExpiresAt,
    }),
  );
  if (!won) return null;
  ctx.emit({
    type: "token_rotated",
    at: rotatedAt,
    sessionId: session.id,
    subject: session.subject,
    generation,
  });
  const rotated: SessionRecord = {
    ...session,
    generation,
    previousHash: hash,
    currentHash: successorHash,
    rotatedAt,
    lastUsedAt: rotatedAt,
    idleExpiresAt,
  };
  return tokenResponse(ctx, rotated, formatToken(successor), now, accessToken);
}

/**
 * The one-round-trip rotation: the store checks what `checkSession` and the binding would, and
 * rotates in the same step. `null` when the store cannot (no `rotateLive`, or an IP policy,
 * which needs more than equality) or refused for any reason: the full path then decides, with
 * its exact error and events.
 */
async function rotateLive(
  ctx: Context,
  secret: Uint8Array,
  hash: string,
  client: ClientContext | undefined,
  clientId: string | undefined,
): Promise<TokenResponse | null> {
  const { store } = ctx;
  if (typeof store.rotateLive !== "function" || ctx.config.binding.ip !== "off") return null;
  const now = ctx.now();
  const successor = newSecret();
  const rotatedAt = new Date(now);
  const session = await storeCall(
    "refresh",
    store.rotateLive({
      expectedHash: hash,
      successorHash: hashSecret(successor),
      sealedSuccessor: sealSecret(successor, secret),
      rotatedAt,
      idleExpiresAt: new Date(now + ctx.config.refreshIdleTtl * 1000),
      ...(clientId === undefined ? {} : { clientId }),
      bindingKey: bindingKey(client, ctx.config.binding),
    }),
  );
  if (!session) return null;
  ctx.emit({
    type: "token_rotated",
    at: rotatedAt,
    sessionId: session.id,
    subject: session.subject,
    generation: session.generation,
  });
  return tokenResponse(ctx, session, formatToken(successor), now);
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
  { token, session }: TokenWithSession,
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
