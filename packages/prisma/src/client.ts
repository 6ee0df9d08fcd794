import type { SessionRecord } from "@tokens/core";

// The structural view of a Prisma client the store needs: the model delegate of the schema
// fragment plus `$transaction`, `$connect` and the raw-query methods. Any client generated from a
// schema that contains the fragment fits (whatever its output path, other models or extensions),
// so this package never imports a generated client or `@prisma/client`. Only the arguments the
// store actually passes are spelled out.

/** A row of the `TokensSession` model as Prisma returns it. */
export interface TokensSessionRow extends Omit<SessionRecord, "client" | "claims"> {
  /** JSON as the provider returns it; read through the store's checks. */
  client: unknown;
  claims: unknown;
}

/** A JSON value as Prisma accepts it for a `Json` column. */
export type JsonInput =
  | string
  | number
  | boolean
  | JsonObjectInput
  | ReadonlyArray<JsonInput | null>;

/** A JSON object as Prisma accepts it for a `Json` column. */
export type JsonObjectInput = { readonly [key: string]: JsonInput | null | undefined };

/** The session filters the store uses. */
export interface TokensSessionWhere {
  id?: string | { in: string[] };
  subject?: string;
  revokedAt?: Date | null | { lt: Date };
  idleExpiresAt?: { lt?: Date; gt?: Date };
  expiresAt?: { lt?: Date; gt?: Date };
  purgeAfter?: { lt?: Date; gt?: Date };
  currentHash?: string;
  clientId?: string;
  bindingKey?: string | null;
  dpopJkt?: string | null;
  OR?: TokensSessionWhere[];
}

/** The `TokensSession` delegate (`prisma.tokensSession`). */
export interface TokensSessionDelegate {
  create(args: {
    data: Omit<TokensSessionRow, "client" | "claims"> & {
      client?: JsonObjectInput;
      claims?: JsonObjectInput;
    };
    select: { id: true };
  }): PromiseLike<unknown>;
  findUnique(args: { where: { id: string } }): PromiseLike<TokensSessionRow | null>;
  findMany(args: {
    where: TokensSessionWhere;
    orderBy?: Array<{ createdAt: "asc" } | { id: "asc" }>;
    take?: number;
    select?: { id: true };
  }): PromiseLike<TokensSessionRow[]>;
  updateMany(args: {
    where: TokensSessionWhere;
    data: Partial<Omit<TokensSessionRow, "client" | "claims">>;
  }): PromiseLike<{ count: number }>;
  deleteMany(args: { where: TokensSessionWhere }): PromiseLike<{ count: number }>;
}

/**
 * The part of a Prisma 7 client `prismaStore` works with: the `tokensSession` delegate, batch
 * `$transaction`, `$connect` and the raw-query methods. Your generated `PrismaClient` — any
 * output path, any driver adapter, extended with `$extends` or not — satisfies it once its schema
 * contains the `@tokens/prisma` model.
 *
 * @example
 * ```ts
 * import { PrismaPg } from "@prisma/adapter-pg";
 * import type { PrismaTokensClient } from "@tokens/prisma";
 * import { PrismaClient } from "./generated/prisma/client";
 *
 * const prisma: PrismaTokensClient = new PrismaClient({
 *   adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL }),
 * });
 * ```
 */
export interface PrismaTokensClient {
  tokensSession: TokensSessionDelegate;
  /** A batch transaction: the queries (not yet run) in one transaction, in order. */
  $transaction(queries: PromiseLike<unknown>[]): PromiseLike<unknown[]>;
  $connect(): PromiseLike<void>;
  /** Raw SQL with positional parameters (`?`, `$1`): the values are never spliced into it. */
  $executeRawUnsafe(query: string, ...values: unknown[]): PromiseLike<number>;
  $queryRawUnsafe(query: string, ...values: unknown[]): PromiseLike<unknown>;
}
