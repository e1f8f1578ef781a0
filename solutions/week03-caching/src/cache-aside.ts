import type { Redis, RedisOptions } from "ioredis";

/** How a cache-aside instance names, times and stores its entries. */
export interface CacheAsideOptions {
  /** A client built with `cacheRedisOptions`, so that Redis trouble fails fast. */
  redis: Redis;
  /** What is cached, e.g. "user"; the first part of every key. */
  namespace: string;
  /** The version of the cached shape. Bump it when the shape changes: old entries are then never read. */
  version: number;
  /** Time to live of a cached value, in ms. */
  ttl: number;
  /** Time to live of a cached "not found", in ms; usually much shorter than `ttl`. */
  negativeTtl: number;
  /** Fraction of the TTL that jitter may take off, in [0, 1). Default 0.1. */
  jitter?: number;
  /** Source of randomness for the jitter, in [0, 1). Default Math.random. */
  random?: () => number;
}

/** What a `getOrLoad` call returns. */
export interface CacheResult<T> {
  /** The value, or null when the source of truth says the key does not exist. */
  value: T | null;
  /** Where the value came from. */
  source: "cache" | "loader";
  /** True when Redis failed or timed out during the call and the cache was bypassed. */
  degraded: boolean;
}

/** What an `update` call returns. */
export interface UpdateResult<R> {
  /** The write's own result. */
  value: R;
  /** False when the cache key could not be deleted; the entry then lives until its TTL. */
  invalidated: boolean;
}

// Entries are plain JSON. The loader's null means "not found", and JSON has a null of its own:
// the stored text "null" is the negative-cache sentinel. It cannot be mistaken for a value (the
// string "null" is stored as "\"null\"", an empty string as "\"\""), nor for a missing key,
// which GET reports as a miss.

/**
 * Client options for a cache: Redis trouble becomes a prompt error instead of a hang.
 * `commandTimeout` bounds a command that was sent and never answered; without the offline
 * queue, a command issued while disconnected fails at once instead of waiting (and piling up
 * memory) until the connection returns.
 */
export function cacheRedisOptions(commandTimeout: number): RedisOptions {
  if (!(commandTimeout > 0) || !Number.isFinite(commandTimeout)) {
    throw new RangeError(`commandTimeout must be a positive number of ms, got ${commandTimeout}`);
  }
  return {
    commandTimeout,
    enableOfflineQueue: false,
    // A command in flight when the connection drops fails now, not after a reconnect.
    maxRetriesPerRequest: 0,
    // Reconnect attempts against a host that swallows packets give up after this long.
    connectTimeout: 2_000,
    // Keep trying to reconnect, with a capped backoff: the cache comes back on its own.
    retryStrategy: (attempt) => Math.min(100 * attempt, 2_000),
  };
}

function checkTtl(ms: number, name: string): void {
  if (!(ms > 0) || !Number.isFinite(ms)) throw new RangeError(`${name} must be a positive number of ms, got ${ms}`);
}

/**
 * Cache-aside (lazy loading) over Redis: read the cache, on a miss load from the source of
 * truth and store the result. "Not found" is cached too, for a shorter time, so a flood of
 * requests for an id that does not exist does not reach the database. Redis trouble never
 * fails a read: it goes to the loader and says so.
 */
export class CacheAside {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #ttl: number;
  readonly #negativeTtl: number;
  readonly #jitter: number;
  readonly #random: () => number;

  constructor(options: CacheAsideOptions) {
    const { redis, namespace, version, ttl, negativeTtl, jitter = 0.1, random = Math.random } = options;
    checkTtl(ttl, "ttl");
    checkTtl(negativeTtl, "negativeTtl");
    if (!(jitter >= 0 && jitter < 1)) throw new RangeError(`jitter must be in [0, 1), got ${jitter}`);
    if (!Number.isSafeInteger(version) || version < 0)
      throw new RangeError(`version must be a non-negative integer, got ${version}`);
    this.#redis = redis;
    this.#prefix = `${namespace}:v${version}:`;
    this.#ttl = ttl;
    this.#negativeTtl = negativeTtl;
    this.#jitter = jitter;
    this.#random = random;
  }

  /** The Redis key of an id: namespace, version and id. */
  keyFor(id: string): string {
    return this.#prefix + id;
  }

  /**
   * The cached value of `id`, or the loader's (then cached). The loader returns null for
   * "not found". A loader error reaches the caller and nothing is cached.
   */
  async getOrLoad<T>(
    id: string,
    loader: () => Promise<T | null>,
    options: { ttl?: number } = {},
  ): Promise<CacheResult<T>> {
    if (options.ttl !== undefined) checkTtl(options.ttl, "ttl");
    const key = this.keyFor(id);
    let stored: string | null;
    try {
      stored = await this.#redis.get(key);
    } catch {
      // Redis is down or slow: the source of truth answers, and the write-back is skipped so
      // that a struggling Redis does not get more work.
      const value = await loader();
      return { value: value ?? null, source: "loader", degraded: true };
    }

    if (stored !== null) {
      const decoded = decode<T>(stored);
      if (decoded) return { value: decoded.value, source: "cache", degraded: false };
      // An entry this code cannot read (a bug, a manual edit) is a miss; the SET below replaces it.
    }

    const loaded = await loader();
    const value = loaded ?? null;
    const encoded = JSON.stringify(value);
    const ttl = value === null ? this.#negativeTtl : (options.ttl ?? this.#ttl);
    try {
      await this.#redis.set(key, encoded, "PX", this.#jittered(ttl));
      return { value, source: "loader", degraded: false };
    } catch {
      return { value, source: "loader", degraded: true };
    }
  }

  /** Deletes the cached entry (value or not-found) of `id`; false when Redis could not be reached. */
  async invalidate(id: string): Promise<boolean> {
    try {
      await this.#redis.del(this.keyFor(id));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Runs a write to the source of truth, then invalidates `id`. The delete comes after the
   * write: deleting first lets a reader cache the old value again while the write runs. It
   * runs even when the write throws, since a write can commit and still fail (a timeout on
   * the reply). A failed delete does not fail the write, which has happened: retrying it
   * because the cache was unreachable could apply it twice.
   */
  async update<R>(id: string, write: () => Promise<R>): Promise<UpdateResult<R>> {
    let value: R;
    try {
      value = await write();
    } catch (error) {
      await this.invalidate(id);
      throw error;
    }
    const invalidated = await this.invalidate(id);
    return { value, invalidated };
  }

  // Jitter only shortens: the TTL is a promise about staleness, and spreading expiries must
  // not break it. Whole milliseconds, at least 1, because PX takes a positive integer.
  #jittered(ttl: number): number {
    return Math.max(1, Math.round(ttl * (1 - this.#jitter * this.#random())));
  }
}

/** The value a stored entry holds (null for a cached not-found), or undefined when it does not parse. */
function decode<T>(stored: string): { value: T | null } | undefined {
  let value: T | null;
  try {
    value = JSON.parse(stored) as T | null;
  } catch {
    return undefined;
  }
  return { value };
}
