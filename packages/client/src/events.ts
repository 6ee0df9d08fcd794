import type { TokenClientEvents } from "./types.js";

type Listener<K extends keyof TokenClientEvents> = (event: TokenClientEvents[K]) => void;

/** A tiny typed event registry: no dependency on `EventTarget`, which React Native lacks. */
export class Emitter {
  readonly #listeners = new Map<keyof TokenClientEvents, Set<Listener<never>>>();

  on<K extends keyof TokenClientEvents>(type: K, listener: Listener<K>): () => void {
    let set = this.#listeners.get(type);
    if (!set) {
      set = new Set();
      this.#listeners.set(type, set);
    }
    set.add(listener as Listener<never>);
    return () => this.off(type, listener);
  }

  off<K extends keyof TokenClientEvents>(type: K, listener: Listener<K>): void {
    this.#listeners.get(type)?.delete(listener as Listener<never>);
  }

  emit<K extends keyof TokenClientEvents>(type: K, event: TokenClientEvents[K]): void {
    for (const listener of [...(this.#listeners.get(type) ?? [])]) {
      try {
        (listener as Listener<K>)(event);
      } catch (error) {
        // A failing listener must neither break the refresh flow nor hide the others.
        report(error);
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}

function report(error: unknown): void {
  const global = globalThis as { reportError?: (error: unknown) => void };
  if (typeof global.reportError === "function") global.reportError(error);
  else console.error(error);
}
