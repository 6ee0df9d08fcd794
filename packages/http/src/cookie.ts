import { ConfigurationError } from "@tokens/core";
import { parseCookie, stringifySetCookie } from "cookie";
import type { Incoming } from "./body.js";
import { type Answer, oauthError } from "./responses.js";

/**
 * Cookie mode: browsers keep the refresh token in an `HttpOnly` cookie that JavaScript cannot
 * read, scoped to the auth endpoints' path.
 *
 * @example
 * ```ts
 * const handlers = createHandlers(tokens, {
 *   cookie: { allowedOrigins: ["https://app.example.com"], path: "/auth/token" },
 * });
 * ```
 */
export interface CookieOptions {
  /**
   * Cookie name. Default `__Secure-tokens_rt` (`tokens_rt` with `allowInsecureLocalhost`).
   * The `__Host-` prefix needs `Path=/`, so it is refused with any other cookie path.
   */
  name?: string;
  /**
   * The cookie's `Path`: the browser sends the cookie to every URL under it. Default
   * `basePath`. Only the refresh and revoke endpoints read the cookie, so a path covering
   * exactly those two (with the default endpoint paths, `<basePath>/token`) keeps it away from
   * the app's other routes under `basePath`, such as its login. Must cover both endpoints;
   * otherwise a `ConfigurationError`.
   */
  path?: string;
  /**
   * Origins whose pages may refresh and revoke with the cookie (exact `scheme://host[:port]`).
   * Default: the origin of the endpoints (`baseUrl`, else the issuer's). A request is also
   * accepted when the browser marks it `Sec-Fetch-Site: same-origin`.
   */
  allowedOrigins?: string[];
  /**
   * The custom header a cookie-authenticated request must carry. A cross-site page cannot add a
   * custom header without a CORS preflight, which these endpoints never grant. Default
   * `Token-Request`.
   */
  csrfHeader?: string;
  /**
   * Development only: drop `Secure` and the `__Secure-` prefix so browsers that refuse secure
   * cookies over plain HTTP still keep it. Allowed only when the issuer is
   * `http://localhost`, `http://127.0.0.1` or `http://[::1]`; otherwise a `ConfigurationError`.
   */
  allowInsecureLocalhost?: boolean;
}

/** The resolved cookie policy every cookie-mode answer goes through. */
export interface CookieJar {
  readonly name: string;
  readonly path: string;
  readonly secure: boolean;
  readonly csrfHeader: string;
  /** The refresh token the request's cookie holds, if any. */
  read(incoming: Incoming): string | undefined;
  /** `Set-Cookie` value installing `token` until `expiresAt`. */
  set(token: string, expiresAt: Date): string;
  /** `Set-Cookie` value deleting the cookie. */
  clear(): string;
  /** A 403 answer if a cookie-authenticated request fails the CSRF checks, else `undefined`. */
  checkCsrf(incoming: Incoming): Answer | undefined;
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);
const TOKEN_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Builds the cookie policy, or throws `ConfigurationError` for an unsafe or invalid setting. */
export function createCookieJar(
  options: CookieOptions,
  path: string,
  issuer: URL,
  defaultOrigin: string,
): CookieJar {
  const insecure = options.allowInsecureLocalhost === true;
  if (insecure && !(issuer.protocol === "http:" && LOOPBACK.has(issuer.hostname))) {
    throw new ConfigurationError(
      "cookie.allowInsecureLocalhost is only allowed with an http://localhost, http://127.0.0.1 or http://[::1] issuer",
    );
  }
  const name = options.name ?? (insecure ? "tokens_rt" : "__Secure-tokens_rt");
  if (!TOKEN_NAME.test(name)) throw new ConfigurationError(`Invalid cookie name ${name}`);
  const prefixed = /^__(secure|host)-/i.test(name);
  if (insecure && prefixed) {
    throw new ConfigurationError(`Cookie ${name} needs Secure, which allowInsecureLocalhost drops`);
  }
  if (/^__host-/i.test(name) && path !== "/") {
    throw new ConfigurationError(`Cookie ${name} needs Path=/, but the cookie path is ${path}`);
  }
  const csrfHeader = options.csrfHeader ?? "Token-Request";
  if (!TOKEN_NAME.test(csrfHeader)) throw new ConfigurationError(`Invalid header ${csrfHeader}`);
  const csrfName = csrfHeader.toLowerCase();
  const origins = new Set<string>();
  for (const origin of options.allowedOrigins ?? [defaultOrigin]) {
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      throw new ConfigurationError(`Invalid allowed origin ${origin}`);
    }
    if (parsed.origin !== origin) {
      throw new ConfigurationError(`Allowed origin ${origin} must be exactly ${parsed.origin}`);
    }
    origins.add(origin);
  }
  const secure = !insecure;
  const attributes = { path, httpOnly: true, secure, sameSite: "strict" } as const;

  return {
    name,
    path,
    secure,
    csrfHeader,
    read(incoming) {
      const header = incoming.header("cookie");
      if (header === undefined) return undefined;
      return parseCookie(header)[name] || undefined;
    },
    set(token, expiresAt) {
      // Max-Age follows the session's idle expiry: the cookie dies with the token it holds.
      const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - Date.now()) / 1000));
      return stringifySetCookie(name, token, { ...attributes, maxAge });
    },
    clear() {
      return stringifySetCookie(name, "", { ...attributes, maxAge: 0, expires: new Date(0) });
    },
    checkCsrf(incoming) {
      const marker = incoming.header(csrfName);
      if (marker === undefined || marker.trim() === "") {
        return oauthError(
          403,
          "invalid_request",
          `Cookie requests must send the ${csrfHeader} header`,
        );
      }
      const origin = incoming.header("origin");
      if (origin !== undefined && origins.has(origin)) return undefined;
      if (incoming.header("sec-fetch-site") === "same-origin") return undefined;
      return oauthError(403, "invalid_request", "Cookie requests must come from an allowed origin");
    },
  };
}
