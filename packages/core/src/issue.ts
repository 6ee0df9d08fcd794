import { InvalidRequestError } from "./errors.js";
import { RESERVED_CLAIMS, tokenResponse } from "./internal/access-token.js";
import { bindingKey } from "./internal/binding.js";
import { randomId } from "./internal/bytes.js";
import type { Context } from "./internal/context.js";
import { policyFor, presentedProof, proofRequired } from "./internal/dpop.js";
import { purgeAfter } from "./internal/expiry.js";
import { clientContext, requireString } from "./internal/input.js";
import { formatToken, hashSecret, newSecret, type TagKey } from "./internal/refresh-token.js";
import { storeCall } from "./internal/store-call.js";
import type { SessionRecord } from "./store.js";
import type { IssueOptions, TokenResponse } from "./types.js";

const MAX_CLAIMS_BYTES = 8192;

/** Starts a session (a new token family) for an authenticated subject. See `Tokens.issue`. */
export async function issue(ctx: Context, options: IssueOptions): Promise<TokenResponse> {
  if (typeof options !== "object" || options === null) {
    throw new InvalidRequestError("malformed", "issue options must be an object");
  }
  const subject = requireString("subject", options.subject);
  const clientId =
    options.clientId === undefined
      ? ctx.config.defaultClientId
      : requireString("clientId", options.clientId);
  const client = clientContext(options.client) ?? null;
  const claims = appClaims(options.claims);
  const dpopJkt = await boundKey(ctx, clientId, options);

  const now = ctx.now();
  const secret = newSecret();
  const hash = hashSecret(secret);
  const createdAt = new Date(now);
  const expiresAt = new Date(now + ctx.config.sessionMaxAge * 1000);
  const idleExpiresAt = Math.min(now + ctx.config.refreshIdleTtl * 1000, expiresAt.getTime());
  const session: SessionRecord = {
    id: randomId(),
    subject,
    clientId,
    generation: 0,
    currentHash: hash,
    previousHash: null,
    sealedSuccessor: null,
    rotatedAt: null,
    createdAt,
    lastUsedAt: createdAt,
    idleExpiresAt: new Date(idleExpiresAt),
    expiresAt,
    purgeAfter: purgeAfter(ctx.config, idleExpiresAt),
    revokedAt: null,
    revokeReason: null,
    client,
    bindingKey: bindingKey(client, ctx.config.binding),
    claims,
    dpopJkt,
  };
  await storeCall("issue", ctx.store.createSession(session));
  ctx.emit({ type: "session_created", at: createdAt, sessionId: session.id, subject, clientId });
  if (Number.isFinite(ctx.config.maxSessionsPerSubject))
    await enforceSessionCap(ctx, subject, createdAt);
  const token = formatToken(
    { sessionId: session.id, generation: 0, secret },
    ctx.keys.tagKeys[0] as TagKey,
  );
  return tokenResponse(ctx, session, token, now, dpopJkt);
}

/**
 * The DPoP key the new session is bound to: the proof's, when the policy is not `"off"` and a
 * valid proof came; `null` without one, unless the policy requires it.
 */
async function boundKey(
  ctx: Context,
  clientId: string,
  options: IssueOptions,
): Promise<string | null> {
  const policy = policyFor(ctx, clientId, options.dpopPolicy);
  if (policy === "off") return null;
  const request = presentedProof(options.dpop);
  if (request) return ctx.dpop.verify(request);
  if (policy === "required") throw proofRequired(`client "${clientId}" must present a DPoP proof`);
  return null;
}

/** Revokes the subject's oldest live sessions beyond the cap (the new one is the newest). */
async function enforceSessionCap(ctx: Context, subject: string, at: Date): Promise<void> {
  const live = await storeCall("issue", ctx.store.listSessions(subject, at));
  const excess = live.length - ctx.config.maxSessionsPerSubject;
  for (const session of live.slice(0, Math.max(0, excess))) {
    if (await storeCall("issue", ctx.store.revokeSession(session.id, at, "session_limit"))) {
      ctx.emit({
        type: "session_revoked",
        at,
        sessionId: session.id,
        subject,
        reason: "session_limit",
      });
    }
  }
}

function appClaims(claims: unknown): Record<string, unknown> | null {
  if (claims === undefined || claims === null) return null;
  if (typeof claims !== "object" || Array.isArray(claims)) {
    throw new InvalidRequestError("malformed", "claims must be a plain object");
  }
  for (const name of Object.keys(claims)) {
    if (RESERVED_CLAIMS.has(name)) {
      throw new InvalidRequestError(
        "reserved_claim",
        `claims may not set the reserved claim "${name}"`,
      );
    }
  }
  let json: string;
  try {
    json = JSON.stringify(claims);
  } catch {
    throw new InvalidRequestError("malformed", "claims must be JSON-serializable");
  }
  if (json.length > MAX_CLAIMS_BYTES) {
    throw new InvalidRequestError(
      "malformed",
      `claims must serialize to at most ${MAX_CLAIMS_BYTES} bytes`,
    );
  }
  return JSON.parse(json) as Record<string, unknown>;
}
