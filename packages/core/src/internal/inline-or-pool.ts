/**
 * Runs each signature operation either inline — Node's synchronous one-shot call: no hand-off,
 * the lowest latency — or on the thread pool — the same call's callback form (or Web Crypto),
 * which Node runs on libuv's pool, so other cores do the work while this thread serves other
 * callers. Inline while this thread has
 * nothing else waiting; the pool as soon as calls overlap, which is when other cores pay off:
 *
 * - a pooled call is still in flight (the pool is already busy for this process);
 * - an inline call ran earlier in the same synchronous stretch (callers started together);
 * - an inline call ran earlier in this turn of the event loop, in another callback (events are
 *   queueing up: a server under load reads several requests per turn).
 *
 * A caller that awaits each call before making the next (one request at a time, a loop) never
 * overlaps itself and stays inline. Only the choice of thread differs: both forms sign and check
 * the same bytes under the same key.
 */

let pooledInFlight = 0;
/** An inline call ran and the microtasks queued since have not all run yet. */
let inlineThisStretch = false;
/**
 * An inline call ran in this turn of the event loop; cleared in its check phase, by the one
 * `setImmediate` the first such call arms.
 */
let inlineThisTurn = false;
/** Every microtask queued before that inline call has run: a later call is another event's. */
let drainedSinceInline = false;
let drainCheckArmed = false;

interface NodeScheduling {
  nextTick(callback: () => void): void;
}
/** `process.nextTick` and `setImmediate` where the runtime has them (Node, Bun, Deno). */
const runtime = globalThis as { process?: NodeScheduling; setImmediate?: (cb: () => void) => void };

/**
 * Runs as a microtask after an inline call. A tick queued from a microtask runs only once the
 * microtask queue is empty, i.e. when the current event's work is done; a caller chaining calls
 * through microtasks never gets there.
 */
function endStretch() {
  inlineThisStretch = false;
  if (!drainCheckArmed && inlineThisTurn) {
    drainCheckArmed = true;
    runtime.process?.nextTick(markDrained);
  }
}
function markDrained() {
  drainCheckArmed = false;
  drainedSinceInline = true;
}
function endTurn() {
  inlineThisTurn = false;
  drainedSinceInline = false;
}

function mayRunInline(): boolean {
  if (pooledInFlight > 0 || inlineThisStretch || (inlineThisTurn && drainedSinceInline)) {
    return false;
  }
  inlineThisStretch = true;
  queueMicrotask(endStretch);
  const { process, setImmediate } = runtime;
  if (process?.nextTick && setImmediate && !inlineThisTurn) {
    inlineThisTurn = true;
    setImmediate(endTurn);
  }
  return true;
}

function settled(): void {
  pooledInFlight--;
}

/**
 * One operation with both forms: `inline` answers synchronously, `pooled` runs on the thread
 * pool; the result calls whichever the scheduling above picks.
 *
 * @example
 * const verify = inlineOrPool(
 *   (input: string, sig: Uint8Array) => nodeVerify(input, sig),
 *   (input, sig) => crypto.subtle.verify(params, key, sig, utf8.encode(input)),
 * );
 */
export function inlineOrPool<A extends unknown[], R>(
  inline: (...args: A) => R,
  pooled: (...args: A) => Promise<R>,
): (...args: A) => R | Promise<R> {
  return (...args) => {
    if (mayRunInline()) return inline(...args);
    const result = pooled(...args);
    pooledInFlight++;
    result.then(settled, settled);
    return result;
  };
}

/** How many pooled operations are in flight, for tests. */
export function pooledOperations(): number {
  return pooledInFlight;
}
