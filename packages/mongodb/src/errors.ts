import { StoreUnavailableError, TokensError } from "@tokens/core";

/**
 * Runs one store operation and turns every failure that is not already a typed tokens error
 * into `StoreUnavailableError`, with the driver's error as `cause`.
 *
 * Everything maps, not only network errors: `MongoNetworkError` (connection reset, socket
 * timeout), `MongoServerSelectionError` (no server reachable), `MongoNotConnectedError` and
 * `MongoTopologyClosedError` (client closed), `MongoOperationTimeoutError` (`timeoutMS`), and
 * server errors such as `NotWritablePrimary`, `InterruptedAtShutdown`, `Interrupted` (killed
 * operation) or a write-concern error. To the token flow they all mean the same: the store could
 * not do it now, the state is as before or as after the call, and a retry may succeed.
 */
export async function guard<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof TokensError) throw error;
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new StoreUnavailableError(`MongoDB ${operation} failed (${detail})`, { cause: error });
  }
}
