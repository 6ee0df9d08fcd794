import { describe, expect, it } from "vitest";
import { bindingMismatches, parseIp } from "../src/internal/binding.js";

const policy = {
  deviceId: "exact",
  userAgent: "exact",
  ip: { prefix: { v4: 24, v6: 64 } },
  onMismatch: "reject",
} as const;

describe("client binding", () => {
  it("matches identical contexts", () => {
    const ctx = { deviceId: "d1", userAgent: "ua", ip: "203.0.113.7" };
    expect(bindingMismatches(ctx, { ...ctx }, policy)).toEqual([]);
  });

  it("names every mismatching field", () => {
    expect(
      bindingMismatches(
        { deviceId: "d1", userAgent: "ua", ip: "203.0.113.7" },
        { deviceId: "d2", userAgent: "x", ip: "198.51.100.1" },
        policy,
      ),
    ).toEqual(["deviceId", "userAgent", "ip"]);
  });

  it("treats a missing presented field as a mismatch and an unrecorded field as unbound", () => {
    expect(bindingMismatches({ deviceId: "d1" }, {}, policy)).toEqual(["deviceId"]);
    expect(bindingMismatches({}, { deviceId: "d9" }, policy)).toEqual([]);
    expect(bindingMismatches(null, undefined, policy)).toEqual([]);
  });

  it("compares IPs by network prefix", () => {
    expect(bindingMismatches({ ip: "203.0.113.7" }, { ip: "203.0.113.200" }, policy)).toEqual([]);
    expect(bindingMismatches({ ip: "203.0.113.7" }, { ip: "203.0.114.7" }, policy)).toEqual(["ip"]);
    expect(
      bindingMismatches({ ip: "2001:db8:1:2::1" }, { ip: "2001:db8:1:2:ffff::9" }, policy),
    ).toEqual([]);
    expect(bindingMismatches({ ip: "2001:db8:1:2::1" }, { ip: "2001:db8:1:3::1" }, policy)).toEqual(
      ["ip"],
    );
    expect(bindingMismatches({ ip: "::ffff:203.0.113.7" }, { ip: "203.0.113.9" }, policy)).toEqual(
      [],
    );
    expect(bindingMismatches({ ip: "203.0.113.7" }, { ip: "garbage" }, policy)).toEqual(["ip"]);
  });

  it("compares IPs exactly across notations", () => {
    const exact = { ...policy, ip: "exact" } as const;
    expect(
      bindingMismatches({ ip: "2001:db8::1" }, { ip: "2001:0db8:0:0:0:0:0:1" }, exact),
    ).toEqual([]);
    expect(bindingMismatches({ ip: "10.0.0.1" }, { ip: "10.0.0.2" }, exact)).toEqual(["ip"]);
  });

  it("ignores fields whose policy is off", () => {
    const off = { deviceId: "off", userAgent: "off", ip: "off", onMismatch: "reject" } as const;
    expect(bindingMismatches({ deviceId: "a", userAgent: "b", ip: "1.2.3.4" }, {}, off)).toEqual(
      [],
    );
  });

  it.each(["", "1.2.3", "1.2.3.256", "1::2::3", "12345::", "x".repeat(100), "1:2:3:4:5:6:7:8:9"])(
    "parses %j as no IP",
    (input) => {
      expect(parseIp(input)).toBeNull();
    },
  );
});
