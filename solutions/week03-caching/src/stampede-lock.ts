import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Redis } from "ioredis";
import { monotonicClock } from "./clock";

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

// Deletes the lock only while it still holds our token. A GET and a DEL sent from the client
// can be split by the lock expiring and another instance taking it; the script cannot be
// split, because Redis runs a script to completion before any other command.
const RELEASE = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end
return 0`;

/**
 * A stored value, or undefined for a miss. A string that does not parse (an old format, a
 * manual edit) is a miss as well: the next load replaces it, where a throw would fail
 * every read of the key until its TTL ran out.
 */
function decode<T>(stored: string | null): { value: T } | undefined {
  if (stored === null) return undefined;
  let value: T;
  try {
    value = JSON.parse(stored) as T;
  } catch {
    return undefined;
  }
  return { value };
}

/**
 * A read-through cache where concurrent misses on one key cause a single load, in this
 * process (callers share one promise) and across processes (a Redis lock, SET NX PX with
 * a random token, released by compare-and-delete).
 */
export class StampedeProtectedCache {
  readonly #redis: Redis;
  readonly #ttl: number;
  readonly #lockTtl: number;
  readonly #waitTimeout: number;
  readonly #pollInterval: number;
  readonly #inFlight = new Map<string, Promise<unknown>>();

  constructor(options: StampedeOptions) {
    const { redis, ttl, lockTtl, waitTimeout, pollInterval = 20 } = options;
    for (const [name, ms] of Object.entries({ ttl, lockTtl, waitTimeout, pollInterval })) {
      if (!(ms > 0) || !Number.isFinite(ms)) throw new RangeError(`${name} must be a positive number of ms, got ${ms}`);
    }
    this.#redis = redis;
    this.#ttl = ttl;
    this.#lockTtl = lockTtl;
    this.#waitTimeout = waitTimeout;
    this.#pollInterval = pollInterval;
  }

  /** The cached value of `key`, or the loader's, loaded once however many callers miss together. */
  getOrLoad<T>(key: string, loader: () => Promise<T>): Promise<T> {
    const pending = this.#inFlight.get(key);
    if (pending !== undefined) return pending as Promise<T>;
    const flight = this.#fetch(key, loader).finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, flight);
    return flight;
  }

  async #fetch<T>(key: string, loader: () => Promise<T>): Promise<T> {
    const lockKey = lockKeyFor(key);
    const started = monotonicClock.now();
    for (;;) {
      const cached = decode<T>(await this.#redis.get(key));
      if (cached) return cached.value;

      const token = randomBytes(16).toString("hex");
      if ((await this.#redis.set(lockKey, token, "PX", this.#lockTtl, "NX")) === "OK") {
        try {
          // The previous holder may have stored the value and released between our GET and
          // our SET NX; loading again now would be the duplicate load the lock exists to stop.
          const stored = decode<T>(await this.#redis.get(key));
          if (stored) return stored.value;
          const value = await loader();
          // JSON has no undefined (nor functions): such a value goes to the callers and is not
          // cached, rather than stored as "" that no later read could parse.
          const encoded: string | undefined = JSON.stringify(value);
          if (encoded !== undefined) await this.#redis.set(key, encoded, "PX", this.#ttl);
          return value;
        } finally {
          // Also on a loader error: the error is not cached, and the next waiter loads at once
          // instead of waiting for the lock to expire. A release that fails must not turn a
          // loaded value into an error: the lock then ends with its TTL.
          await this.#redis.eval(RELEASE, 1, lockKey, token).catch(() => {});
        }
      }

      const waited = monotonicClock.now() - started;
      if (waited >= this.#waitTimeout) throw new LockWaitTimeoutError(key, waited);
      // A little jitter keeps the waiters of many instances from polling in lockstep.
      const pause = Math.min(this.#pollInterval * (0.5 + Math.random()), this.#waitTimeout - waited);
      await sleep(pause);
    }
  }
}
