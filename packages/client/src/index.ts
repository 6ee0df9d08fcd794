export { createTokenClient } from "./client.js";
export {
  TokenClientError,
  type TokenClientErrorCode,
  type TokenClientErrorDetails,
} from "./errors.js";
export {
  type IndexedDbKeyStoreOptions,
  indexedDbKeyStore,
} from "./indexed-db-key-store.js";
export { memoryKeyStore } from "./memory-key-store.js";
export type {
  AccessToken,
  CallOptions,
  CrossTabOptions,
  DpopKeyStore,
  DpopOptions,
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
