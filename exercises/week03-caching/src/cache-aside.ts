/*
 * Kata cache-aside: the pattern behind most Redis caches, done the way production needs it.
 *
 * A read asks Redis first; on a miss it calls the loader (the database), stores the result
 * and returns it. Build `CacheAside` and the client options it relies on:
 *
 * - Keys are `keyFor(id)`: they name the namespace, the version of the cached shape and the
 *   id, so bumping the version after a deploy makes old entries unreadable (a fresh space).
 *   The order and the separators are yours, but keep the parts apart: two different
 *   (namespace, version, id) must never get the same key ("order" 3 "99" and "order" 39 "9").
 * - Values are JSON. A loader result of null means "not found": cache that too, as a stored
 *   sentinel with its own shorter `negativeTtl` (a missing key would just be another miss),
 *   and never confuse it with a real value such as "", 0, false or the string "null".
 * - TTLs get jitter: the stored TTL is ttl × (1 − jitter × random()), so entries filled
 *   together do not expire together. Jitter only shortens. `getOrLoad(id, loader, { ttl })`
 *   overrides the TTL for one call.
 * - An entry that cannot be decoded is a miss (and is replaced). A loader error reaches the
 *   caller and nothing is cached. A hit costs exactly one Redis command (which one, and
 *   whether an entry is a string or a hash under keyFor(id), is your choice). Whatever the
 *   layout, the entry lives under keyFor(id) with its TTL on that key.
 * - Options that make no sense (a TTL that is not a positive finite number of ms, Infinity
 *   included, jitter outside [0, 1), a version that is not a non-negative integer) are a
 *   RangeError, at construction or at the call; so is a `cacheRedisOptions` timeout that is
 *   not positive and finite.
 * - `invalidate(id)` deletes the entry; `update(id, write)` runs the write, then invalidates,
 *   even when the write throws, and never fails a write because Redis did.
 * - Redis trouble is handled on purpose: `cacheRedisOptions(timeout)` returns the ioredis
 *   options the cache's client is built with (a command timeout, no offline queue), and when
 *   a Redis command fails, `getOrLoad` answers from the loader with `degraded: true`, within
 *   that bound, never hanging. After a restart of Redis the client reconnects on its own.
 *   (In production the fallback needs a bound of its own, a concurrency limit or a circuit
 *   breaker in front of the loader: the README's Pitfalls say why. The tests do not ask for it.)
 *
 * The tests are in tests/cache-aside.test.ts. Keep the exported names and signatures: the
 * tests import them.
 */
import { NotImplementedError } from "#kata";
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

/** Client options for a cache: Redis trouble becomes a prompt error instead of a hang. */
export function cacheRedisOptions(commandTimeout: number): RedisOptions {
  // TODO: a command timeout, no offline queue, and a reconnect strategy that keeps trying.
  void commandTimeout;
  throw new NotImplementedError("cache-aside");
}

/** Cache-aside over Redis, with negative caching, jittered TTLs and graceful degradation. */
export class CacheAside {
  constructor(options: CacheAsideOptions) {
    // TODO: validate and keep the options.
    void options;
    throw new NotImplementedError("cache-aside");
  }

  /** The Redis key of an id: namespace, version and id. */
  keyFor(id: string): string {
    // TODO
    void id;
    throw new NotImplementedError("cache-aside");
  }

  /** The cached value of `id`, or the loader's (then cached). The loader returns null for "not found". */
  async getOrLoad<T>(
    id: string,
    loader: () => Promise<T | null>,
    options: { ttl?: number } = {},
  ): Promise<CacheResult<T>> {
    // TODO: GET, decode, or load and SET with PX; Redis errors mean degraded, not failed.
    void id;
    void loader;
    void options;
    throw new NotImplementedError("cache-aside");
  }

  /** Deletes the cached entry (value or not-found) of `id`; false when Redis could not be reached. */
  async invalidate(id: string): Promise<boolean> {
    // TODO
    void id;
    throw new NotImplementedError("cache-aside");
  }

  /** Runs a write to the source of truth, then invalidates `id` (also when the write throws). */
  async update<R>(id: string, write: () => Promise<R>): Promise<UpdateResult<R>> {
    // TODO: mind the order of the write and the delete.
    void id;
    void write;
    throw new NotImplementedError("cache-aside");
  }
}
