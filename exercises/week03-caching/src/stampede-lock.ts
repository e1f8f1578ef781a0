/*
 * Kata stampede-protection, part 1: a Redis lock against cache stampedes.
 *
 * A hot key expires and 200 requests miss at the same moment: without protection, all 200
 * run the same expensive query (a "stampede", or "dogpile"), often right when the database
 * can least afford it. Build `StampedeProtectedCache.getOrLoad(key, loader)` so that
 * concurrent misses cause one loader call, across every instance of the app:
 *
 * - Values are JSON under `key`, with a TTL (`ttl`). A hit is a single GET. A stored string
 *   that does not parse as JSON is a miss (it is loaded again and replaced), never an error
 *   for every reader until the TTL ends. A loaded value JSON cannot hold (undefined) goes to
 *   the callers and is not cached.
 * - On a miss, take the lock `lockKeyFor(key)` with SET lockKey <random token> NX PX lockTtl.
 *   The winner loads, stores the value and releases the lock. Release with a Lua script that
 *   deletes the lock only if it still holds the winner's token: the lock may have expired
 *   mid-load and belong to someone else by now.
 * - The others wait: poll (every `pollInterval`) until the value appears or the lock is free
 *   to take, and give up with `LockWaitTimeoutError` after `waitTimeout`.
 * - Callers in the same process share one in-flight load instead of each polling Redis.
 * - A loader error releases the lock at once, reaches the caller (every caller that shared
 *   the load), and is not cached.
 * - Durations (ttl, lockTtl, waitTimeout, pollInterval) that are not positive finite numbers
 *   of ms are a RangeError: Infinity too (a lock that never expires outlives a crashed holder).
 *
 * Part 2 is in src/xfetch.ts. The tests are in tests/stampede-protection.test.ts. Keep the
 * exported names and signatures: the tests import them.
 */
import { NotImplementedError } from "#kata";
import type { Redis } from "ioredis";

/** Thrown to a caller that waited `waitTimeout` ms for another instance's load to finish. */
export class LockWaitTimeoutError extends Error {
  readonly code = "ERR_LOCK_WAIT_TIMEOUT";

  constructor(
    readonly key: string,
    readonly waitedMs: number,
  ) {
    super(`gave up on ${key} after waiting ${Math.round(waitedMs)} ms for another instance to load it`);
    this.name = "LockWaitTimeoutError";
  }
}

/** The Redis key of the lock that guards the load of `key`. */
export function lockKeyFor(key: string): string {
  return `${key}:lock`;
}

/** How a stampede-protected cache times its values, its lock and its waiters. */
export interface StampedeOptions {
  redis: Redis;
  /** Time to live of a cached value, in ms. */
  ttl: number;
  /** Time to live of the lock, in ms: how long a crashed holder can block the others. */
  lockTtl: number;
  /** The longest a caller waits for another holder before it throws LockWaitTimeoutError, in ms. */
  waitTimeout: number;
  /** How often a waiter looks again, in ms. Default 20. */
  pollInterval?: number;
}

/** A read-through cache where concurrent misses on one key cause a single load. */
export class StampedeProtectedCache {
  constructor(options: StampedeOptions) {
    // TODO: validate and keep the options.
    void options;
    throw new NotImplementedError("stampede-protection");
  }

  /** The cached value of `key`, or the loader's, loaded once however many callers miss together. */
  getOrLoad<T>(key: string, loader: () => Promise<T>): Promise<T> {
    // TODO: share in-flight loads in this process; take the Redis lock; wait with a bound;
    // release with a compare-and-delete script.
    void key;
    void loader;
    throw new NotImplementedError("stampede-protection");
  }
}
