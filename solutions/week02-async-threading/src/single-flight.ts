// Reference solution for the single-flight kata: concurrent calls for the same key share one
// execution, and nothing outlives it.

/**
 * Coalesces concurrent calls that share a key into one execution of the work (Go's
 * singleflight.Group). Results are never cached: once an execution settles, the key is free
 * and the next call runs the work again.
 */
export class SingleFlight<K, V> {
  // Only keys with an execution in flight are here, so memory follows concurrency, never the
  // number of keys ever used.
  readonly #inFlight = new Map<K, Promise<V>>();

  /** Runs `fn` for `key`, or joins the execution already in flight for it. Every joiner gets the same promise. */
  run(key: K, fn: () => V | PromiseLike<V>): Promise<V> {
    const existing = this.#inFlight.get(key);
    if (existing) return existing;

    let execution: Promise<V>;
    try {
      execution = Promise.resolve(fn());
    } catch (error) {
      // A synchronous throw is still one failed execution: callers see a rejection, not an exception.
      execution = Promise.reject(error);
    }
    // The entry is released in a handler registered before any caller can attach its own,
    // so when a caller's continuation runs the key is already free: a call made right
    // after settling starts fresh instead of joining a finished execution (no caching,
    // and a rejection is never served twice).
    const release = () => {
      // forget() may have replaced the entry; only the execution that owns it removes it.
      if (this.#inFlight.get(key) === execution) this.#inFlight.delete(key);
    };
    execution.then(release, release);
    this.#inFlight.set(key, execution);
    return execution;
  }

  /** Detaches `key` from its execution: callers already waiting keep it, the next call starts a new one. */
  forget(key: K): void {
    this.#inFlight.delete(key);
  }

  /** How many keys have an execution in flight. */
  get size(): number {
    return this.#inFlight.size;
  }
}
