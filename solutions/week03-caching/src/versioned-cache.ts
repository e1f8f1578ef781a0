import type { Redis } from "ioredis";
import { RedisScript } from "./redis-script";

/** A value with the version the source of truth gave it (a row version, an LSN). */
export interface Versioned<T> {
  value: T;
  /** A non-negative safe integer; a greater version is a later write. */
  version: number;
}

export interface VersionedCacheOptions {
  redis: Redis;
  /** Time to live of a cached value, in ms. */
  ttl: number;
  /**
   * Time to live of the tombstone an invalidation leaves, in ms. It must outlast the slowest
   * load: a reader slower than this can write its stale value back after the tombstone is gone.
   */
  tombstoneTtl: number;
}

// Each entry is a hash: v (the version) and d (the JSON data). A tombstone is a hash with v
// only. Scripts run to completion before Redis runs any other command, so each compare and
// its write are one atomic step: no other client can slip between them.

// KEYS[1] entry, ARGV[1] version, ARGV[2] data, ARGV[3] ttl ms. Stores when the version is
// newer than what the key holds, or equal to a tombstone's (the reader loaded exactly the
// committed write). Returns 1 when stored.
const PUT = new RedisScript(`
local current = redis.call("HGET", KEYS[1], "v")
if current then
  local held = tonumber(current)
  local incoming = tonumber(ARGV[1])
  if incoming < held then return 0 end
  if incoming == held and redis.call("HEXISTS", KEYS[1], "d") == 1 then return 0 end
end
redis.call("HSET", KEYS[1], "v", ARGV[1], "d", ARGV[2])
redis.call("PEXPIRE", KEYS[1], ARGV[3])
return 1
`);

// KEYS[1] entry, ARGV[1] committed version, ARGV[2] tombstone ttl ms. Replaces the entry by a
// tombstone that remembers the version, unless the key already holds a newer one (a late
// invalidation must not wipe a newer value). Returns 1 when the tombstone was written.
const INVALIDATE = new RedisScript(`
local current = redis.call("HGET", KEYS[1], "v")
if current and tonumber(current) > tonumber(ARGV[1]) then return 0 end
redis.call("DEL", KEYS[1])
redis.call("HSET", KEYS[1], "v", ARGV[1])
redis.call("PEXPIRE", KEYS[1], ARGV[2])
return 1
`);

function checkVersion(version: number): void {
  if (!Number.isSafeInteger(version) || version < 0) {
    throw new RangeError(`version must be a non-negative safe integer, got ${version}`);
  }
}

function checkMs(ms: number, name: string): void {
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new RangeError(`${name} must be a positive integer of ms, got ${ms}`);
}

/**
 * A read-through cache whose writes are compare-and-set on versions, so a slow reader can
 * never put back a value older than one already cached or already invalidated.
 */
export class VersionedCache<T> {
  readonly #redis: Redis;
  readonly #ttl: number;
  readonly #tombstoneTtl: number;

  constructor(options: VersionedCacheOptions) {
    checkMs(options.ttl, "ttl");
    checkMs(options.tombstoneTtl, "tombstoneTtl");
    this.#redis = options.redis;
    this.#ttl = options.ttl;
    this.#tombstoneTtl = options.tombstoneTtl;
  }

  /** The cached entry, or null on a miss (nothing cached, or only a tombstone). */
  async get(key: string): Promise<Versioned<T> | null> {
    const [version, data] = await this.#redis.hmget(key, "v", "d");
    if (version === null || data === null) return null;
    return { value: JSON.parse(data) as T, version: Number(version) };
  }

  /** Stores `entry` unless the cache already knows a newer version; true when stored. */
  async put(key: string, entry: Versioned<T>): Promise<boolean> {
    checkVersion(entry.version);
    const stored = await PUT.run(this.#redis, [key], [entry.version, JSON.stringify(entry.value), this.#ttl]);
    return stored === 1;
  }

  /**
   * For writers, after committing `version` to the source of truth: drops the cached value
   * and leaves a tombstone, so that a reader still holding an older load cannot store it.
   * False when the key already holds a newer version (and is left alone).
   */
  async invalidate(key: string, version: number): Promise<boolean> {
    checkVersion(version);
    return (await INVALIDATE.run(this.#redis, [key], [version, this.#tombstoneTtl])) === 1;
  }

  /**
   * The cached entry, or the loader's, which is then offered to the cache with put. The
   * caller gets what it loaded even when the cache refuses it as stale: that read was
   * correct when it was made; storing it for everyone else would not be.
   */
  async getOrLoad(key: string, loader: () => Promise<Versioned<T>>): Promise<Versioned<T>> {
    const cached = await this.get(key);
    if (cached !== null) return cached;
    const loaded = await loader();
    await this.put(key, loaded);
    return loaded;
  }
}
