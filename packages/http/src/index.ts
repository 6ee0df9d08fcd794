export type { AuthScheme, BearerCredential } from "./bearer.js";
export type { CookieOptions } from "./cookie.js";
export {
  type AuthenticatedRequest,
  type AuthenticateOptions,
  type AuthResult,
  createHandlers,
  type Endpoint,
  type EndpointPaths,
  type HandlersOptions,
  type IssueRequestOptions,
  type RequestContext,
  type TokenHandlers,
  TRANSPORT_HEADER,
  type Transport,
} from "./handlers.js";
export {
  type NodeRequestLike,
  type NodeResponseLike,
  type NodeStreamLike,
  type ResponseParts,
  readWebResponse,
  sendWebResponse,
  type ToWebRequestOptions,
  toNodeHeaders,
  toWebHeaders,
  toWebRequest,
} from "./node.js";
