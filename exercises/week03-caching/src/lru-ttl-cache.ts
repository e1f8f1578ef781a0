/*
 * Kata lru-ttl-cache: an in-process LRU cache with per-entry TTLs.
 *
 * Every service ends up with a small cache in its own memory, in front of Redis or the
 * database: parsed config, hot rows, JWKS keys. It has to be bounded (a cache without a
 * bound is a memory leak with good intentions), it must never serve an entry past its TTL,
 * and every operation must cost O(1) however full it is. Build it:
 *
 * - `maxEntries` bounds the number of entries; when a new key would go over it, the least
 *   recently used entry makes room. `get` and `set` count as a use; `peek` and `has` do not.
 * - `ttl` is the default time to live (ms); `set(key, value, { ttl })` overrides it for one
 *   entry, and 0 means "never expires". An entry set at t with TTL d is fresh up to and
 *   including t + d, and is never returned after that.
 * - Expiry is lazy, as in lru-cache: an expired entry stays (and takes its slot) until `get`
 *   or `delete` finds it, a `set` replaces it, or it is the least recently used entry when
 *   room is needed. `peek` and `has` never change the cache.
 * - Optionally `maxSize` with `sizeOf(value, key)`: the total size is bounded too, and a
 *   value bigger than `maxSize` is not stored (and removes the old value under its key).
 *   Sizes are positive whole numbers (as in lru-cache): a `sizeOf` result of 0, a negative
 *   number, a fraction, NaN or Infinity is a RangeError at `set`. Fractions are refused because
 *   their sums drift in floating point (0.1 + 0.2 > 0.3 evicts an entry that fits exactly).
 * - Errors name what is at fault: a bad option's RangeError message contains the option's
 *   name (maxEntries, ttl, maxSize), the TypeError for a maxSize without sizeOf (or the
 *   reverse) contains "sizeOf", and a bad size's RangeError contains "size".
 * - Time comes from the injected `clock`, so tests can move it by hand.
 *
 * The tests are in tests/lru-ttl-cache.test.ts; one of them compares your cache with
 * lru-cache, the library a professional would pick, over long random operation sequences.
 * Keep the exported names and signatures: the tests import them.
 */
import { NotImplementedError } from "#kata";
import type { Clock } from "./clock";

/** How a cache is bounded and timed. */
export interface LruTtlCacheOptions<K, V> {
  /** The most entries held at once, expired ones included until they are removed. A positive integer. */
  maxEntries: number;
  /** Default time to live in ms for entries set without their own `ttl`. 0 or absent: no expiry. */
  ttl?: number;
  /** The most total size held at once, as measured by `sizeOf`. Needs `sizeOf`. */
  maxSize?: number;
  /** The size of one entry (a positive whole number), for example its length in bytes. Needs `maxSize`. */
  sizeOf?: (value: V, key: K) => number;
  /** Where the cache reads the time; default: `monotonicClock` from ./clock. */
  clock?: Clock;
}

/** Options of one `set`. */
export interface SetOptions {
  /** Time to live of this entry in ms, overriding the cache's default. 0: no expiry. */
  ttl?: number;
}

/**
 * An LRU cache with per-entry TTLs. `V extends {}` keeps `undefined` (and `null`) out of
 * the cache, so that `undefined` from `get` can only mean "not there".
 */
export class LruTtlCache<K, V extends {}> {
  constructor(options: LruTtlCacheOptions<K, V>) {
    // TODO: validate the options (RangeError for a maxEntries that is not a positive integer,
    // a negative or non-finite ttl, a maxSize that is not a positive finite number; TypeError when
    // only one of maxSize and sizeOf is given; each message names the option at fault) and
    // set up O(1) structures.
    void options;
    throw new NotImplementedError("lru-ttl-cache");
  }

  /** Entries held, including expired ones not removed yet. */
  get size(): number {
    // TODO
    throw new NotImplementedError("lru-ttl-cache");
  }

  /** The sum of the sizes of the entries held (0 without `sizeOf`). */
  get totalSize(): number {
    // TODO
    throw new NotImplementedError("lru-ttl-cache");
  }

  /** The value of a fresh entry, which becomes the most recently used; undefined otherwise. */
  get(key: K): V | undefined {
    // TODO: an expired entry is removed here and reported as a miss.
    void key;
    throw new NotImplementedError("lru-ttl-cache");
  }

  /** The value of a fresh entry, without counting as a use and without changing the cache. */
  peek(key: K): V | undefined {
    // TODO
    void key;
    throw new NotImplementedError("lru-ttl-cache");
  }

  /** Whether a fresh entry exists, without counting as a use and without changing the cache. */
  has(key: K): boolean {
    // TODO
    void key;
    throw new NotImplementedError("lru-ttl-cache");
  }

  /** Stores a value as the most recently used entry with a fresh TTL, evicting as needed. */
  set(key: K, value: V, options?: SetOptions): this {
    // TODO: validate options.ttl (RangeError), measure the value (a positive whole number,
    // else RangeError), evict least recently used entries until both bounds hold.
    void key;
    void value;
    void options;
    throw new NotImplementedError("lru-ttl-cache");
  }

  /** Removes an entry; true when a fresh one was there. */
  delete(key: K): boolean {
    // TODO
    void key;
    throw new NotImplementedError("lru-ttl-cache");
  }
}
