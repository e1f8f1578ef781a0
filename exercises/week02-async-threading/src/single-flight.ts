// Kata: single-flight (week 2, Async & Threading).
//
// A popular cache key expires and 500 requests miss it in the same millisecond: 500
// identical queries hit the database (a cache stampede). Single-flight (Go's
// golang.org/x/sync/singleflight) lets the first caller run the work and every concurrent
// caller with the same key wait for that one execution.
//
// - `run(key, fn)`: if an execution for `key` is in flight, return its promise; otherwise
//   call `fn` and share its outcome. Every caller gets the same value or the same error; a
//   synchronous throw in fn is a rejection. `fn` may return a plain value or any thenable
//   (PromiseLike), not only a native promise.
// - Nothing is cached: as soon as the execution settles the key is free, so the next call
//   (even one made inside a caller's `.then`) runs fn again, and a rejection is never
//   served twice.
// - Keys are independent. Memory follows the calls in flight: `size` is 0 once they settle.
// - `forget(key)` detaches a key from its execution: the next call starts a new one, and
//   the old execution, when it settles, must not remove the new one's entry.
//
// Tests: tests/single-flight.test.ts (run `npm run check week2 single-flight`).
// Keep the exported names and signatures: the tests import them.
import { NotImplementedError } from "#kata";

/**
 * Coalesces concurrent calls that share a key into one execution of the work. Results are
 * never cached: once an execution settles, the key is free and the next call runs the work again.
 */
export class SingleFlight<K, V> {
  // TODO: a Map from key to the promise of the execution in flight.

  /** Runs `fn` for `key`, or joins the execution already in flight for it. Every joiner gets the same promise. */
  run(key: K, fn: () => V | PromiseLike<V>): Promise<V> {
    // TODO: join an existing execution, or start one, store it, and remove it when it
    //       settles (before any caller's continuation runs: register that handler first).
    void key;
    void fn;
    throw new NotImplementedError("single-flight");
  }

  /** Detaches `key` from its execution: callers already waiting keep it, the next call starts a new one. */
  forget(key: K): void {
    // TODO: drop the entry; the execution's own cleanup must only remove its own entry.
    void key;
    throw new NotImplementedError("single-flight");
  }

  /** How many keys have an execution in flight. */
  get size(): number {
    // TODO
    throw new NotImplementedError("single-flight");
  }
}
