import { InvalidDpopProofError, InvalidRequestError } from "../errors.js";
import type { SessionRecord } from "../store.js";
import type { DpopPolicy, DpopRequest } from "../types.js";
import { timingSafeEqual } from "./bytes.js";
import type { Context } from "./context.js";
import { isDpopPolicy } from "./dpop-config.js";

/**
 * The DPoP parts of a request when it carries a proof; `undefined` when it carries none (no
 * `dpop` option, or no `DPoP` header). Anything but an object is a caller's mistake.
 */
export function presentedProof(dpop: unknown): DpopRequest | undefined {
  if (dpop === undefined || dpop === null) return undefined;
  if (typeof dpop !== "object") {
    throw new InvalidRequestError("malformed", "dpop must be { proof, method, url }");
  }
  const request = dpop as DpopRequest;
  return request.proof === undefined || request.proof === null ? undefined : request;
}

/** The policy of a client: its own, else the default; or the one an issue call names. */
export function policyFor(ctx: Context, clientId: string, override?: unknown): DpopPolicy {
  if (override !== undefined) {
    if (!isDpopPolicy(override)) {
      throw new InvalidRequestError("malformed", "dpopPolicy must be off, allowed or required");
    }
    return override;
  }
  return ctx.config.dpop.clients[clientId] ?? ctx.config.dpop.policy;
}

/**
 * The key a session's new access token is bound to: the session's own, or — for an unbound
 * session refreshed with a valid proof, unless its client's policy is `"off"` — the proof's
 * (the access token is bound, the session stays as issued).
 */
export function accessTokenKey(
  ctx: Context,
  session: SessionRecord,
  proven: string | null,
): string | null {
  if (session.dpopJkt !== null) return session.dpopJkt;
  return proven !== null && policyFor(ctx, session.clientId) !== "off" ? proven : null;
}

export function proofRequired(message: string): InvalidDpopProofError {
  return new InvalidDpopProofError("dpop_required", message);
}

/**
 * A session or access token bound to the key `bound` is used only with a proof made with that
 * key: `proven` is the proof's thumbprint, `null` when the request carried none.
 */
export function checkDpopKey(bound: string, proven: string | null, what: string): void {
  if (proven === null) throw proofRequired(`${what} is bound to a DPoP key: a proof is required`);
  if (!timingSafeEqual(proven, bound)) {
    throw new InvalidDpopProofError(
      "dpop_key_mismatch",
      "the DPoP proof was made with another key",
    );
  }
}
