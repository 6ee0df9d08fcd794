export { createTokenClient } from "./client.js";
export {
  TokenClientError,
  type TokenClientErrorCode,
  type TokenClientErrorDetails,
} from "./errors.js";
export type {
  AccessToken,
  CallOptions,
  CrossTabOptions,
  FetchFunction,
  LoginResult,
  RefreshedEvent,
  RefreshTokenStorage,
  SessionEndedEvent,
  SessionState,
  TokenClient,
  TokenClientEvents,
  TokenClientOptions,
  TokenEndpoints,
  TokenResponseBody,
  Transport,
} from "./types.js";
