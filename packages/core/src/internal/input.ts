import { InvalidRequestError } from "../errors.js";
import type { ClientContext } from "../store.js";

const MAX_FIELD = 1024;

/** A required, bounded, non-empty string — or a typed `invalid_request`. */
export function requireString(name: string, value: unknown, max = 255): string {
  if (typeof value !== "string" || value.length === 0 || value.length > max) {
    throw new InvalidRequestError(
      "malformed",
      `${name} must be a non-empty string of at most ${max} characters`,
    );
  }
  return value;
}

/** A client context from untrusted input: only known string fields, bounded. */
export function clientContext(value: unknown): ClientContext | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new InvalidRequestError("malformed", "client must be an object");
  }
  const input = value as Record<string, unknown>;
  const context: ClientContext = {};
  for (const field of ["deviceId", "userAgent", "ip"] as const) {
    const v = input[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== "string" || v.length > MAX_FIELD) {
      throw new InvalidRequestError(
        "malformed",
        `client.${field} must be a string of at most ${MAX_FIELD} characters`,
      );
    }
    context[field] = v;
  }
  return context;
}
