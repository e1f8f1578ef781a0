// The keyed token bucket against rate-limiter-flexible's in-memory limiter, the library a
// professional would reach for. Target: at least as many decisions per second (ratio >= 1)
// on one hot key and across 100 000 keys. Both are configured never to refuse, so the bench
// measures the bookkeeping of a decision, not the cost of a refusal.
import { benchCase } from "#fixtures/bench";
import { RateLimiterMemory } from "rate-limiter-flexible";
import { TokenBucketLimiter } from "../src/token-bucket";

const NEVER_EMPTY = 1e12;
const KEY_COUNT = 100_000;
const keys = Array.from({ length: KEY_COUNT }, (_, i) => `client-${i}`);

{
  const buckets = new TokenBucketLimiter({ capacity: NEVER_EMPTY, refillPerSecond: NEVER_EMPTY });
  const flexible = new RateLimiterMemory({ points: NEVER_EMPTY, duration: 60 });
  benchCase("token bucket, one hot key", {
    ours: () => buckets.tryRemove("hot"),
    yardstick: { library: "rate-limiter-flexible RateLimiterMemory", run: () => flexible.consume("hot") },
  });
}

{
  const buckets = new TokenBucketLimiter({
    capacity: NEVER_EMPTY,
    refillPerSecond: NEVER_EMPTY,
    maxKeys: 2 * KEY_COUNT,
  });
  const flexible = new RateLimiterMemory({ points: NEVER_EMPTY, duration: 60 });
  let ours = 0;
  let theirs = 0;
  benchCase("token bucket, 100k keys round robin", {
    ours: () => buckets.tryRemove(keys[(ours = (ours + 1) % KEY_COUNT)]!),
    yardstick: {
      library: "rate-limiter-flexible RateLimiterMemory",
      run: () => flexible.consume(keys[(theirs = (theirs + 1) % KEY_COUNT)]!),
    },
  });
}
