import type { PrismaTokensClient } from "./client.js";

// The refresh path's one statement goes to the Prisma client's driver adapter (`PrismaPg`,
// `PrismaMariaDb`, `PrismaLibSql`, `PrismaBetterSqlite3`, PGlite's…) directly, past the client's
// query pipeline — which even for `$queryRaw` serializes the values, plans the query and decodes
// the result at several times the CPU cost of the statement itself. The interface is Prisma's
// public `@prisma/driver-adapter-utils` one; only what the store calls is spelled out here.

/** How a driver adapter encodes an argument (`ArgType` of `@prisma/driver-adapter-utils`). */
export interface ArgType {
  scalarType: "string" | "int" | "datetime";
  arity: "scalar" | "list";
}

/** A statement with positional arguments (`SqlQuery` of `@prisma/driver-adapter-utils`). */
export interface SqlQuery {
  sql: string;
  args: unknown[];
  argTypes: ArgType[];
}

/** The queries of a connected driver adapter (`SqlQueryable`). Rows are arrays, in column order. */
export interface SqlQueryable {
  queryRaw(query: SqlQuery): Promise<{ rows: unknown[][] }>;
  executeRaw(query: SqlQuery): Promise<number>;
}

/** A transaction of a driver adapter (`Transaction`): its connection until commit or rollback. */
interface SqlTransaction extends SqlQueryable {
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

/** A connected driver adapter (`SqlDriverAdapter`). */
export interface SqlDriverAdapter extends SqlQueryable {
  startTransaction(): Promise<SqlTransaction>;
  dispose(): Promise<void>;
}

/** What a user passes as `new PrismaClient({ adapter })`: connects once per client connection. */
interface SqlDriverAdapterFactory {
  connect(): Promise<SqlDriverAdapter>;
}

/** The connected adapter a factory last handed its client, until the client disposes of it. */
interface Tap {
  current?: SqlDriverAdapter;
}

const taps = new WeakMap<SqlDriverAdapterFactory, Tap>();

/**
 * Records what `factory.connect()` resolves — the adapter the client then queries through — so
 * that the store shares the client's connections (its pool, its lifecycle) instead of opening
 * its own. Installed once per factory, however many stores share it.
 */
function tap(factory: SqlDriverAdapterFactory): Tap {
  const existing = taps.get(factory);
  if (existing) return existing;
  const recorded: Tap = {};
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const adapter = await connect();
    const dispose = adapter.dispose.bind(adapter);
    adapter.dispose = () => {
      if (recorded.current === adapter) recorded.current = undefined;
      return dispose();
    };
    recorded.current = adapter;
    return adapter;
  };
  taps.set(factory, recorded);
  return recorded;
}

function isFactory(value: unknown): value is SqlDriverAdapterFactory {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { connect?: unknown }).connect === "function"
  );
}

/**
 * The driver adapter the client queries through, connected by the client itself (its
 * `$connect()`, called here when it has not connected yet), or `null` when it has none to share:
 * a client without a driver adapter, or one that connected before the store was created (its
 * connection was made before the store could see it). The store then sends the statement
 * through `$queryRawUnsafe`, which is correct, only slower.
 *
 * @example
 * ```ts
 * const adapter = clientAdapter(prisma);
 * const driver = await adapter();
 * const { rows } = await driver!.queryRaw({ sql: "SELECT 1", args: [], argTypes: [] });
 * ```
 */
export function clientAdapter(prisma: PrismaTokensClient): () => Promise<SqlDriverAdapter | null> {
  // The factory as the client keeps it: not part of Prisma's typed API, so anything unexpected
  // means no adapter to share.
  const factory = (prisma as { _engineConfig?: { adapter?: unknown } })._engineConfig?.adapter;
  if (!isFactory(factory)) return async () => null;
  const recorded = tap(factory);
  let missed = false;
  return async () => {
    if (recorded.current || missed) return recorded.current ?? null;
    await prisma.$connect();
    missed = recorded.current === undefined;
    return recorded.current ?? null;
  };
}
