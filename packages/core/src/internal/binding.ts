import type { ClientContext } from "../store.js";
import type { BindingPolicy, IpBindingPolicy } from "../types.js";
import { base64urlEncode, utf8 } from "./bytes.js";
import { sha256 } from "./sha256.js";

const BINDING_KEY_LABEL = "tokens/binding-key/v1\0";

/**
 * The session's `bindingKey`: base64url(SHA-256) of the fields the policy compares exactly —
 * each named, with its value or `null` when the context lacks it — or `null` when the policy
 * compares no field exactly. Core computes it from the recorded context at issue and from the
 * presented one at refresh; a store only tests the two for equality.
 *
 * Equal keys imply {@link bindingMismatches} finds nothing for deviceId and userAgent, even if
 * the policy changed in between: the key names the fields it covers and records absent ones, so
 * a field recorded at issue but not covered then, or covered now but not then, makes the keys
 * differ (and the full comparison decides). IP policies other than `"off"` are not covered: core
 * never takes the key-only path for them.
 */
export function bindingKey(
  client: ClientContext | null | undefined,
  policy: Required<BindingPolicy>,
): string | null {
  const covered: Array<[keyof ClientContext, string | null]> = [];
  if (policy.deviceId === "exact") covered.push(["deviceId", client?.deviceId ?? null]);
  if (policy.userAgent === "exact") covered.push(["userAgent", client?.userAgent ?? null]);
  if (covered.length === 0) return null;
  return base64urlEncode(sha256(utf8.encode(BINDING_KEY_LABEL + JSON.stringify(covered))));
}

/**
 * The fields of the session's recorded client context that the presented context fails to
 * match under the policy. A field the session never recorded binds nothing.
 */
export function bindingMismatches(
  recorded: ClientContext | null,
  presented: ClientContext | undefined,
  policy: Required<BindingPolicy>,
): Array<keyof ClientContext> {
  if (!recorded) return [];
  const mismatched: Array<keyof ClientContext> = [];
  if (
    policy.deviceId === "exact" &&
    recorded.deviceId !== undefined &&
    presented?.deviceId !== recorded.deviceId
  ) {
    mismatched.push("deviceId");
  }
  if (
    policy.userAgent === "exact" &&
    recorded.userAgent !== undefined &&
    presented?.userAgent !== recorded.userAgent
  ) {
    mismatched.push("userAgent");
  }
  if (recorded.ip !== undefined && !ipMatches(recorded.ip, presented?.ip, policy.ip))
    mismatched.push("ip");
  return mismatched;
}

function ipMatches(
  recorded: string,
  presented: string | undefined,
  policy: IpBindingPolicy,
): boolean {
  if (policy === "off") return true;
  if (presented === undefined) return false;
  if (policy === "exact") return normalizeIp(recorded) === normalizeIp(presented);
  const a = parseIp(recorded);
  const b = parseIp(presented);
  if (!a || !b || a.v6 !== b.v6) return false;
  const bits = a.v6 ? policy.prefix.v6 : policy.prefix.v4;
  const width = a.v6 ? 128n : 32n;
  const shift = width - BigInt(Math.max(0, Math.min(Number(width), bits)));
  return a.value >> shift === b.value >> shift;
}

function normalizeIp(ip: string): string {
  const parsed = parseIp(ip);
  return parsed ? `${parsed.v6 ? 6 : 4}:${parsed.value}` : ip;
}

/** IPv4 or IPv6 (with `::` and IPv4-mapped forms) as an integer, or `null`. */
export function parseIp(input: string): { v6: boolean; value: bigint } | null {
  if (typeof input !== "string" || input.length > 64) return null;
  const ip = input.trim();
  const v4 = parseV4(ip);
  if (v4 !== null) return { v6: false, value: v4 };
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) {
    const inner = parseV4(mapped[1] as string);
    return inner === null ? null : { v6: false, value: inner };
  }
  const halves = ip.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] ? (halves[0] as string).split(":") : [];
  const tail = halves.length === 2 && halves[1] ? (halves[1] as string).split(":") : [];
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || (halves.length === 2 && missing < 1)) return null;
  const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  let value = 0n;
  for (const group of groups) {
    if (!/^[0-9a-f]{1,4}$/i.test(group)) return null;
    value = (value << 16n) | BigInt(Number.parseInt(group, 16));
  }
  return { v6: true, value };
}

function parseV4(ip: string): bigint | null {
  const parts = ip.split(".");
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return null;
    value = (value << 8n) | BigInt(Number(part));
  }
  return value;
}
