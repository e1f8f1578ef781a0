import { type Clock, monotonicClock } from "./clock";

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
  /** Where the cache reads the time; defaults to a monotonic clock. */
  clock?: Clock;
}

/** Options of one `set`. */
export interface SetOptions {
  /** Time to live of this entry in ms, overriding the cache's default. 0: no expiry. */
  ttl?: number;
}

/**
 * One cached value. Entries form a doubly linked list from the least recently used (`oldest`)
 * to the most recently used (`newest`): moving, adding and removing an entry is a few pointer
 * writes, which is what keeps every operation O(1).
 */
interface Entry<K, V> {
  readonly key: K;
  value: V;
  size: number;
  /** The last instant at which the entry is still fresh; Infinity when it never expires. */
  expiresAt: number;
  older: Entry<K, V> | undefined;
  newer: Entry<K, V> | undefined;
}

function checkTtl(ttl: number, where: string): void {
  if (!(ttl >= 0) || !Number.isFinite(ttl)) {
    throw new RangeError(`${where} must be a finite number of milliseconds >= 0 (0 means no expiry), got ${ttl}`);
  }
}

/**
 * An in-process LRU cache with per-entry TTLs, a count bound and an optional size bound.
 * All operations are O(1). Expiry is lazy: an expired entry is never returned, and it is
 * removed when `get` or `delete` finds it, when it is overwritten, or when it is the least
 * recently used entry and room is needed. `has` and `peek` only observe.
 */
export class LruTtlCache<K, V extends {}> {
  readonly #maxEntries: number;
  readonly #maxSize: number;
  readonly #defaultTtl: number;
  readonly #sizeOf: ((value: V, key: K) => number) | undefined;
  readonly #clock: Clock;
  readonly #entries = new Map<K, Entry<K, V>>();
  #oldest: Entry<K, V> | undefined;
  #newest: Entry<K, V> | undefined;
  #totalSize = 0;

  constructor(options: LruTtlCacheOptions<K, V>) {
    const { maxEntries, ttl = 0, maxSize, sizeOf, clock = monotonicClock } = options;
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
    }
    checkTtl(ttl, "ttl");
    if ((maxSize === undefined) !== (sizeOf === undefined)) {
      throw new TypeError(
        "maxSize and sizeOf go together: a size bound needs a way to measure entries, and the other way round",
      );
    }
    if (maxSize !== undefined && (!(maxSize > 0) || !Number.isFinite(maxSize))) {
      throw new RangeError(`maxSize must be a positive finite number, got ${maxSize}`);
    }
    this.#maxEntries = maxEntries;
    this.#maxSize = maxSize ?? Infinity;
    this.#defaultTtl = ttl;
    this.#sizeOf = sizeOf;
    this.#clock = clock;
  }

  /** Entries held, including expired ones not removed yet. Never more than `maxEntries`. */
  get size(): number {
    return this.#entries.size;
  }

  /** The sum of the sizes of the entries held (0 without `sizeOf`). Never more than `maxSize`. */
  get totalSize(): number {
    return this.#totalSize;
  }

  /** The value of a fresh entry, which becomes the most recently used; undefined otherwise. */
  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (this.#isExpired(entry)) {
      this.#remove(entry);
      return undefined;
    }
    this.#touch(entry);
    return entry.value;
  }

  /** The value of a fresh entry, without counting as a use and without changing the cache. */
  peek(key: K): V | undefined {
    const entry = this.#entries.get(key);
    return entry === undefined || this.#isExpired(entry) ? undefined : entry.value;
  }

  /** Whether a fresh entry exists, without counting as a use and without changing the cache. */
  has(key: K): boolean {
    const entry = this.#entries.get(key);
    return entry !== undefined && !this.#isExpired(entry);
  }

  /**
   * Stores a value as the most recently used entry, with a fresh TTL, evicting the least
   * recently used entries until both bounds hold. An entry larger than `maxSize` is not
   * stored, and any older value under the same key is dropped: a reader must never get the
   * value this call meant to replace.
   */
  set(key: K, value: V, options?: SetOptions): this {
    const ttl = options?.ttl ?? this.#defaultTtl;
    checkTtl(ttl, "set's ttl");
    const size = this.#measure(value, key);
    const existing = this.#entries.get(key);
    if (size > this.#maxSize) {
      if (existing !== undefined) this.#remove(existing);
      return this;
    }
    // Read the clock only for entries that can expire: most caches set many without a TTL.
    const expiresAt = ttl > 0 ? this.#clock.now() + ttl : Infinity;

    if (existing !== undefined) {
      this.#totalSize += size - existing.size;
      existing.value = value;
      existing.size = size;
      existing.expiresAt = expiresAt;
      this.#touch(existing);
    } else {
      if (this.#entries.size >= this.#maxEntries) this.#remove(this.#oldest!);
      const entry: Entry<K, V> = { key, value, size, expiresAt, older: this.#newest, newer: undefined };
      if (this.#newest === undefined) this.#oldest = entry;
      else this.#newest.newer = entry;
      this.#newest = entry;
      this.#entries.set(key, entry);
      this.#totalSize += size;
    }
    // The entry just set is the newest and fits on its own, so this loop stops before it.
    while (this.#totalSize > this.#maxSize) this.#remove(this.#oldest!);
    return this;
  }

  /** Removes an entry; true when a fresh one was there (an expired one is removed silently). */
  delete(key: K): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined) return false;
    const wasFresh = !this.#isExpired(entry);
    this.#remove(entry);
    return wasFresh;
  }

  // Whole numbers only, as lru-cache insists too: sums of fractions drift in binary floating
  // point (0.1 + 0.2 > 0.3), so an entry that fits exactly would be evicted, and a cache
  // emptied of fractional entries would report a total of 2.8e-17. Integers add exactly up
  // to 2^53, far past any memory budget.
  #measure(value: V, key: K): number {
    if (this.#sizeOf === undefined) return 0;
    const size = this.#sizeOf(value, key);
    if (!Number.isSafeInteger(size) || size <= 0) {
      throw new RangeError(`sizeOf must return a positive whole number, got ${size} for key ${String(key)}`);
    }
    return size;
  }

  // Fresh up to and including expiresAt, like Redis and lru-cache: an entry set with a
  // 100 ms TTL is still served 100 ms later and gone 1 ms after that.
  #isExpired(entry: Entry<K, V>): boolean {
    return entry.expiresAt !== Infinity && this.#clock.now() > entry.expiresAt;
  }

  #touch(entry: Entry<K, V>): void {
    if (entry === this.#newest) return;
    this.#unlink(entry);
    entry.older = this.#newest;
    entry.newer = undefined;
    this.#newest!.newer = entry;
    this.#newest = entry;
  }

  #remove(entry: Entry<K, V>): void {
    this.#unlink(entry);
    this.#entries.delete(entry.key);
    this.#totalSize -= entry.size;
  }

  #unlink(entry: Entry<K, V>): void {
    if (entry.older === undefined) this.#oldest = entry.newer;
    else entry.older.newer = entry.newer;
    if (entry.newer === undefined) this.#newest = entry.older;
    else entry.newer.older = entry.older;
    // Dropping the links lets the collector reclaim a removed entry even while a neighbour lives.
    entry.older = entry.newer = undefined;
  }
}
