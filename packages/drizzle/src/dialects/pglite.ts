import type { Row } from "../shared.js";

/** A backend message as PGlite's `execProtocol` resolves it (the parts read here). */
interface BackendMessage {
  name: string;
  fields?: ReadonlyArray<string | null>;
}

/**
 * The public methods of a PGlite instance that run wire-protocol messages, typed here because
 * PGlite is an optional peer of the store.
 */
interface PGliteProtocol {
  execProtocol(message: Uint8Array): Promise<{ messages: readonly BackendMessage[] }>;
  /** Runs `run` while no query of the instance's own API can. */
  runExclusive<T>(run: () => Promise<T>): Promise<T>;
  isInTransaction(): boolean;
  /** Only an in-process instance has it; PGliteWorker, whose database runs elsewhere, does not. */
  execProtocolRawSync(message: Uint8Array): Uint8Array;
}

/** The in-process PGlite instance under a Drizzle database, or `undefined` for other drivers. */
export function pgliteClient(db: unknown): PGliteProtocol | undefined {
  const client = (db as { $client?: Partial<PGliteProtocol> }).$client;
  return typeof client?.execProtocol === "function" &&
    typeof client.runExclusive === "function" &&
    typeof client.isInTransaction === "function" &&
    typeof client.execProtocolRawSync === "function"
    ? (client as PGliteProtocol)
    : undefined;
}

const utf8 = new TextEncoder();

/** The body of a frontend message, field by field (protocol 3.0: big-endian integers). */
class Body {
  #parts: Uint8Array[] = [];
  #length = 0;

  #push(part: Uint8Array): this {
    this.#parts.push(part);
    this.#length += part.length;
    return this;
  }

  byte(char: string): this {
    return this.#push(Uint8Array.of(char.charCodeAt(0)));
  }

  int16(value: number): this {
    const part = new Uint8Array(2);
    new DataView(part.buffer).setInt16(0, value);
    return this.#push(part);
  }

  int32(value: number): this {
    const part = new Uint8Array(4);
    new DataView(part.buffer).setInt32(0, value);
    return this.#push(part);
  }

  /** A NUL-terminated string. */
  cstring(value: string): this {
    return this.#push(utf8.encode(value)).#push(new Uint8Array(1));
  }

  /** A parameter value: its length and bytes, or -1 for NULL. */
  value(value: string | null): this {
    if (value === null) return this.int32(-1);
    const bytes = utf8.encode(value);
    return this.int32(bytes.length).#push(bytes);
  }

  /** The message: its type, its length (counting itself) and this body. */
  message(type: string): Uint8Array {
    const message = new Uint8Array(5 + this.#length);
    message[0] = type.charCodeAt(0);
    new DataView(message.buffer).setInt32(1, 4 + this.#length);
    let at = 5;
    for (const part of this.#parts) {
      message.set(part, at);
      at += part.length;
    }
    return message;
  }
}

function concat(messages: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(messages.reduce((length, message) => length + message.length, 0));
  let at = 0;
  for (const message of messages) {
    out.set(message, at);
    at += message.length;
  }
  return out;
}

/**
 * A named statement run on PGlite through its protocol API, for the refresh: PGlite's `query`
 * (and so Drizzle's PGlite driver) parses and plans every statement anew and talks to the
 * database in six exchanges; a statement parsed once and run as Bind, Execute and Sync in one
 * message takes a third of the time. PGlite is one backend, so the statement is there for every
 * later call. Resolves the one row the statement returns, its columns as `keys`, in PostgreSQL's
 * text format (which the store's records read, as they read any driver's values); `undefined`
 * when it returns none; `null` when it cannot run now — inside a transaction someone has open
 * on the instance, which it must not join — so the caller runs it the usual way, which waits.
 */
export function pgliteStatement(
  client: PGliteProtocol,
  name: string,
  text: string,
  keys: readonly string[],
): (values: readonly unknown[]) => Promise<Row | undefined | null> {
  const sync = new Body().message("S");
  const execute = new Body().cstring("").int32(0).message("E");
  // Closing first makes the Parse succeed whether or not a statement of that name (the same
  // text: the name is the text's hash) is there already.
  const prepare = [
    new Body().byte("S").cstring(name).message("C"),
    new Body().cstring(name).cstring(text).int16(0).message("P"),
  ];
  let prepared = false;

  const run = async (values: readonly unknown[]): Promise<readonly BackendMessage[] | null> =>
    client.runExclusive(async () => {
      if (client.isInTransaction()) return null;
      const bind = new Body().cstring("").cstring(name).int16(0).int16(values.length);
      for (const value of values) bind.value(value === null ? null : String(value));
      const message = [bind.int16(0).message("B"), execute, sync];
      const { messages } = await client.execProtocol(
        concat(prepared ? message : [...prepare, ...message]),
      );
      prepared = true;
      return messages;
    });

  return async (values) => {
    let messages: readonly BackendMessage[] | null;
    try {
      messages = await run(values);
    } catch (error) {
      // 26000: the statement is gone (DEALLOCATE, DISCARD ALL). Bind failed, so nothing ran.
      if ((error as { code?: unknown }).code !== "26000") throw error;
      prepared = false;
      messages = await run(values);
    }
    if (messages === null) return null;
    const fields = messages.find((message) => message.name === "dataRow")?.fields;
    if (!fields) return undefined;
    return Object.fromEntries(keys.map((key, i) => [key, fields[i] ?? null]));
  };
}
