// The record ↔ document mapping, through the driver's own BSON codec (the bytes MongoDB would
// store), without a server.
import type { SessionRecord } from "@tokens/core";
import { StoreUnavailableError } from "@tokens/core";
import fc from "fast-check";
import { BSON } from "mongodb";
import { describe, expect, it } from "vitest";
import { fromSessionDocument, hasNulFieldName, toSessionDocument } from "../src/documents.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** What MongoDB hands back after storing `doc`: BSON bytes and back, as the store's collections do. */
function stored<T extends object>(doc: T): Record<string, unknown> {
  return BSON.deserialize(BSON.serialize(doc, { ignoreUndefined: true }));
}

function session(overrides: Partial<SessionRecord> = {}): SessionRecord {
  const at = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
  return {
    id: "sess_Q2x9",
    subject: "user-42",
    clientId: "web",
    generation: 0,
    currentHash: "hash-live",
    previousHash: null,
    sealedSuccessor: null,
    rotatedAt: null,
    createdAt: new Date(at),
    lastUsedAt: new Date(at),
    idleExpiresAt: new Date(at + HOUR),
    expiresAt: new Date(at + DAY),
    purgeAfter: new Date(at + HOUR - 60_000),
    revokedAt: null,
    revokeReason: null,
    client: null,
    bindingKey: null,
    claims: null,
    dpopJkt: null,
    ...overrides,
  };
}

describe("session documents", () => {
  it("use the session id as _id and BSON dates; the record's fields, nothing else", () => {
    const record = session({
      client: { deviceId: "d-1", ip: "2001:db8::7" },
      claims: { role: "admin" },
    });
    const doc = stored(toSessionDocument(record));
    expect(doc._id).toBe("sess_Q2x9");
    expect(doc).not.toHaveProperty("id");
    expect(doc.createdAt).toBeInstanceOf(Date);
    expect(doc.purgeAfter).toEqual(record.purgeAfter);
    expect(Object.keys(doc).sort()).toEqual(
      [
        "_id",
        "subject",
        "clientId",
        "generation",
        "currentHash",
        "previousHash",
        "sealedSuccessor",
        "rotatedAt",
        "createdAt",
        "lastUsedAt",
        "idleExpiresAt",
        "expiresAt",
        "purgeAfter",
        "revokedAt",
        "revokeReason",
        "client",
        "bindingKey",
        "claims",
        "dpopJkt",
      ].sort(),
    );
  });

  it("round-trip through BSON to an equal record (rotated, revoked, nested claims, unicode)", () => {
    const at = Date.UTC(2025, 5, 1, 0, 0, 0, 1);
    const record = session({
      generation: 7,
      previousHash: "hash-prev",
      sealedSuccessor: "sealed",
      rotatedAt: new Date(at),
      lastUsedAt: new Date(at),
      revokedAt: new Date(at + 5),
      revokeReason: "reused",
      client: { deviceId: "device-ä1", userAgent: "Mozilla/5.0 ✓", ip: "203.0.113.9" },
      dpopJkt: "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
      claims: {
        tier: 3,
        beta: true,
        org: { id: "o-1", teams: ["a", "b"] },
        note: "🚀",
        none: null,
      },
    });
    expect(fromSessionDocument(stored(toSessionDocument(record)))).toEqual(record);
  });

  it("store absent optional fields as null, the record contract, not as missing fields", () => {
    const loose = { ...session(), previousHash: undefined, client: undefined, claims: undefined };
    const back = fromSessionDocument(stored(toSessionDocument(loose as unknown as SessionRecord)));
    expect(back.previousHash).toBeNull();
    expect(back.client).toBeNull();
    expect(back.claims).toBeNull();
  });

  it("read a document without dpopJkt, as written before sessions could be bound, as unbound", () => {
    const { dpopJkt: _notYet, ...before } = stored(toSessionDocument(session()));
    expect(fromSessionDocument(before)).toEqual(session({ dpopJkt: null }));
  });

  it("drop undefined fields inside claims, as JSON would, instead of storing null", () => {
    const back = fromSessionDocument(
      stored(toSessionDocument(session({ claims: { a: 1, b: undefined } }))),
    );
    expect(back.claims).toStrictEqual({ a: 1 });
  });

  it("round-trip any JSON claims and client context (property)", () => {
    const text = fc.string({ maxLength: 12 });
    const date = fc.date({
      min: new Date(0),
      max: new Date(Date.UTC(2200, 0)),
      noInvalidDate: true,
    });
    const name = fc.string({ maxLength: 8 }).filter((key) => !key.includes("\0"));
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: "small" },
        fc.constant(null),
        fc.boolean(),
        text,
        fc.integer(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.array(tie("value"), { maxLength: 3 }),
        fc.dictionary(name, tie("value"), { maxKeys: 3 }),
      ),
    })).value;
    const record = fc.record({
      id: text,
      subject: text,
      clientId: text,
      generation: fc.nat(),
      currentHash: text,
      previousHash: fc.option(text, { nil: null }),
      sealedSuccessor: fc.option(text, { nil: null }),
      rotatedAt: fc.option(date, { nil: null }),
      createdAt: date,
      lastUsedAt: date,
      idleExpiresAt: date,
      expiresAt: date,
      purgeAfter: date,
      revokedAt: fc.option(date, { nil: null }),
      revokeReason: fc.option(text, { nil: null }),
      client: fc.option(
        fc.record({ deviceId: text, userAgent: text, ip: text }, { requiredKeys: [] }),
        { nil: null },
      ),
      bindingKey: fc.option(text, { nil: null }),
      claims: fc.option(fc.dictionary(name, json, { maxKeys: 4 }), { nil: null }),
      dpopJkt: fc.option(text, { nil: null }),
    });
    fc.assert(
      fc.property(record, (input) => {
        expect(fromSessionDocument(stored(toSessionDocument(input)))).toEqual(input);
      }),
    );
  });

  it("refuse a malformed document with StoreUnavailableError naming the field", () => {
    const good = stored(toSessionDocument(session()));
    const cases: Array<[string, unknown]> = [
      ["subject", undefined],
      ["generation", "1"],
      ["generation", 1.5],
      ["createdAt", "2025-01-01T00:00:00Z"],
      ["expiresAt", new Date(Number.NaN)],
      ["purgeAfter", undefined],
      ["bindingKey", undefined],
      ["dpopJkt", 42],
      ["previousHash", 42],
      ["client", ["d-1"]],
      ["claims", "{}"],
    ];
    for (const [field, value] of cases) {
      const doc = { ...good, [field]: value };
      if (value === undefined) delete doc[field];
      expect(() => fromSessionDocument(doc), field).toThrow(StoreUnavailableError);
      expect(() => fromSessionDocument(doc), field).toThrow(`"${field}"`);
    }
  });
});

describe("field names MongoDB cannot store", () => {
  it("NUL is found at any depth; other names, including $ and dots, are fine", () => {
    expect(hasNulFieldName({ a: { b: [{ "c\0": 1 }] } })).toBe(true);
    expect(hasNulFieldName({ "\0": 1 })).toBe(true);
    expect(hasNulFieldName({ $where: 1, "a.b": { "x\0y": "value only\0" } })).toBe(true);
    expect(hasNulFieldName({ $where: 1, "a.b": ["\0"], c: "\0" })).toBe(false);
    expect(hasNulFieldName(null)).toBe(false);
  });
});
