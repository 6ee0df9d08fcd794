export { acceptsDpop } from "./accepts-dpop.js";
export { createTokens } from "./create-tokens.js";
export {
  ConfigurationError,
  InvalidDpopProofError,
  InvalidGrantError,
  InvalidRequestError,
  InvalidTokenError,
  StoreUnavailableError,
  TokensError,
  type TokensErrorCode,
  type TokensErrorReason,
  UseDpopNonceError,
} from "./errors.js";
export { generateSigningKey } from "./generate-signing-key.js";
export { rotatedSession, sessionFields, type UnchangedByRotation } from "./session-fields.js";
export type { ClientContext, Rotation, SessionRecord, TokenStore } from "./store.js";
export type {
  AccessTokenClaims,
  BindingFieldPolicy,
  BindingPolicy,
  DpopAlgorithm,
  DpopConfig,
  DpopPolicy,
  DpopRequest,
  IpBindingPolicy,
  IssueOptions,
  JsonWebKeySet,
  RefreshOptions,
  ResolvedConfig,
  SessionInfo,
  SigningAlgorithm,
  SigningKey,
  TokenResponse,
  Tokens,
  TokensConfig,
  TokensEvent,
  VerifyOptions,
} from "./types.js";
