import { createTokens } from "../create-tokens.js";
import type { SessionRecord } from "../store.js";
import type { IssueOptions, TokenResponse, TokensConfig } from "../types.js";

/**
 * A login as core would make it over `store`, except that the session is handed back instead of
 * written: for upgrade tests, which write it themselves in the shape an earlier release's
 * schema had, then migrate and check the token still refreshes.
 *
 * @example
 * ```ts
 * import { issuedElsewhere } from "@tokens/core/testing";
 *
 * const { issued, session } = await issuedElsewhere({ ...config, store }, { subject: "dave" });
 * await insertAsTheEarlierRelease(session);
 * ```
 */
export async function issuedElsewhere(
  config: TokensConfig,
  options: IssueOptions,
): Promise<{ issued: TokenResponse; session: SessionRecord }> {
  const written: SessionRecord[] = [];
  const tokens = createTokens({
    ...config,
    store: { ...config.store, createSession: async (session) => void written.push(session) },
  });
  const issued = await tokens.issue(options);
  return { issued, session: written[0] as SessionRecord };
}
