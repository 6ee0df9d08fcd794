import { StoreUnavailableError, TokensError } from "../errors.js";

/**
 * Runs a store call. Adapters should throw `StoreUnavailableError` themselves; anything else a
 * store throws is still a storage failure to the caller, never a crash of the token flow.
 */
export async function storeCall<T>(operation: string, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof TokensError) throw error;
    throw new StoreUnavailableError(`store failed during ${operation}`, { cause: error });
  }
}
