import { seededRandom } from "#fixtures/random";
import { LRUCache } from "lru-cache";
import { bench, describe } from "vitest";
import { LruTtlCache } from "../src/lru-ttl-cache";

// A mixed workload: 10 000 entries, keys drawn from 20 000 (about half the reads miss),
// 70 % reads and 30 % writes, most writes evicting. The same sequence for both caches.
const CAPACITY = 10_000;
// Longer runs than the default: this machine is shared, and short samples are mostly noise.
const OPTIONS = { time: 1_500, warmupTime: 300 };
const OPERATIONS = 50_000;
const random = seededRandom(2026);
const keys = Array.from({ length: CAPACITY * 2 }, (_, i) => `user:${i}`);
const workload = Array.from({ length: OPERATIONS }, () => ({
  key: keys[Math.floor(random() * keys.length)]!,
  write: random() < 0.3,
}));

interface Cache {
  get(key: string): string | undefined;
  set(key: string, value: string): unknown;
}

function run(cache: Cache): number {
  let hits = 0;
  for (const { key, write } of workload) {
    if (write) cache.set(key, key);
    else if (cache.get(key) !== undefined) hits++;
  }
  return hits;
}

describe("mixed get/set, no TTL", () => {
  const ours = new LruTtlCache<string, string>({ maxEntries: CAPACITY });
  const theirs = new LRUCache<string, string>({ max: CAPACITY });
  bench(
    "LruTtlCache",
    () => {
      run(ours);
    },
    OPTIONS,
  );
  bench(
    "lru-cache",
    () => {
      run(theirs);
    },
    OPTIONS,
  );
});

// With TTLs, lru-cache reads the clock at most once per millisecond (its ttlResolution, a
// timer-reset cache of performance.now()); LruTtlCache reads it on every check of an entry
// that can expire, which keeps expiry exact on an injected clock at a few ns per read.
describe("mixed get/set, 60 s TTL on every entry", () => {
  const ours = new LruTtlCache<string, string>({ maxEntries: CAPACITY, ttl: 60_000 });
  const theirs = new LRUCache<string, string>({ max: CAPACITY, ttl: 60_000 });
  bench(
    "LruTtlCache",
    () => {
      run(ours);
    },
    OPTIONS,
  );
  bench(
    "lru-cache",
    () => {
      run(theirs);
    },
    OPTIONS,
  );
});
