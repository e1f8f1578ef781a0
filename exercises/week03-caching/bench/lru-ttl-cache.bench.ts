import { benchCase } from "#fixtures/bench";
import { seededRandom } from "#fixtures/random";
import { LRUCache } from "lru-cache";
import { beforeAll } from "vitest";
import { LruTtlCache } from "../src/lru-ttl-cache";

// A mixed workload: 10 000 entries, keys drawn from 20 000 (about half the reads miss),
// 70 % reads and 30 % writes, most writes evicting. The same sequence for both caches, and
// one operation of the bench is a pass over all 50 000 of it (a round runs millions).
// Both are exact LRU caches fed the same sequence, so their hit ratios are equal: checked
// before the timed runs, or the comparison would be of two different workloads.
const CAPACITY = 10_000;
const OPERATIONS = 50_000;
// Longer rounds than the default: this machine is shared, and short samples are mostly noise.
const TIMING = { roundMs: 300, warmupMs: 600 };
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

function sameHitRatio(name: string, ours: Cache, theirs: Cache): void {
  beforeAll(() => {
    // Two passes: the first fills both caches from empty, the second is what every timed
    // pass sees (a warm cache).
    for (let pass = 0; pass < 2; pass++) {
      const [a, b] = [run(ours), run(theirs)];
      if (a !== b) throw new Error(`${name}: LruTtlCache hit ${a} times, lru-cache ${b}: not the same workload`);
    }
  });
}

{
  const ours = new LruTtlCache<string, string>({ maxEntries: CAPACITY });
  const theirs = new LRUCache<string, string>({ max: CAPACITY });
  sameHitRatio("no TTL", ours, theirs);
  benchCase("LruTtlCache, mixed get/set, no TTL (50k operations)", {
    ours: () => run(ours),
    yardstick: { library: "lru-cache", run: () => run(theirs) },
    ...TIMING,
  });
}

// With TTLs, lru-cache reads the clock at most once per millisecond (its ttlResolution, a
// timer-reset cache of performance.now()); LruTtlCache reads it on every check of an entry
// that can expire, which keeps expiry exact on an injected clock at a few ns per read.
{
  const ours = new LruTtlCache<string, string>({ maxEntries: CAPACITY, ttl: 60_000 });
  const theirs = new LRUCache<string, string>({ max: CAPACITY, ttl: 60_000 });
  sameHitRatio("60 s TTL", ours, theirs);
  benchCase("LruTtlCache, mixed get/set, 60 s TTL on every entry (50k operations)", {
    ours: () => run(ours),
    yardstick: { library: "lru-cache", run: () => run(theirs) },
    ...TIMING,
  });
}
