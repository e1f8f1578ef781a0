import { type Clock, systemClock } from "./clock";
import type { RateLimitDecision } from "./decision";

export interface TokenBucketOptions {
  /** Most tokens the bucket holds: the largest burst it lets through at once. */
  capacity: number;
  /** Tokens added per second, continuously (5/s adds 0.5 token in 100 ms). */
  refillPerSecond: number;
  /** Where time comes from; defaults to the wall clock. */
  clock?: Clock;
}

export interface TokenBucketLimiterOptions extends TokenBucketOptions {
  /** Hard cap on tracked keys; past it the least recently used key is forgotten. Default 100 000. */
  maxKeys?: number;
}

// Token counts are binary fractions (0.1 token is not exact), so a bucket that refilled to
// "exactly" 1 may hold 0.9999999999999999. Comparisons forgive far less than any real cost.
const TOKEN_SLACK = 1e-9;

function requirePositive(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0)
    throw new RangeError(`${name} must be a positive, finite number (got ${value})`);
}

/**
 * The injected wall clock made steady: it never goes back.
 * A reading earlier than the last one (an NTP step, a VM restored from a snapshot) is absorbed
 * into an offset: time stands still at that instant and then moves on at the clock's pace
 * from there, so the step is neither a refill nor a lock-out, and every wait already promised
 * still holds. A reading that is not a finite number (a broken clock) is ignored.
 */
class SteadyTime {
  #last = Number.NEGATIVE_INFINITY;
  #offset = 0;

  constructor(private readonly clock: Clock) {}

  now(): number {
    const reading = this.clock.now();
    if (!Number.isFinite(reading)) return this.#last;
    let steady = reading + this.#offset;
    if (steady < this.#last) {
      this.#offset += this.#last - steady;
      steady = this.#last;
    }
    return (this.#last = steady);
  }
}

interface BucketState {
  tokens: number;
  /** The latest instant this bucket has been refilled to, on the steady time line. */
  updatedAt: number;
}

interface BucketConfig {
  readonly capacity: number;
  readonly refillPerSecond: number;
}

function validateConfig(options: TokenBucketOptions): BucketConfig {
  requirePositive("capacity", options.capacity);
  requirePositive("refillPerSecond", options.refillPerSecond);
  return { capacity: options.capacity, refillPerSecond: options.refillPerSecond };
}

/** Tokens the bucket holds at `at` (steady time, not before its last update), without changing it. */
function tokensAt(state: BucketState, at: number, config: BucketConfig): number {
  if (at === state.updatedAt) return state.tokens; // also -Infinity before any finite reading
  // Multiply before dividing: (100 * 5) / 1000 is exactly 0.5, 100 * (5 / 1000) need not be.
  return Math.min(config.capacity, state.tokens + ((at - state.updatedAt) * config.refillPerSecond) / 1000);
}

/** Adds the tokens earned since the last update. Steady time never goes back, so `now` >= updatedAt. */
function refill(state: BucketState, now: number, config: BucketConfig): void {
  state.tokens = tokensAt(state, now, config);
  state.updatedAt = now;
}

function msFor(tokens: number, config: BucketConfig): number {
  return (tokens * 1000) / config.refillPerSecond;
}

/** Whole milliseconds until `tokens` more have been earned, rounded up; 0 for none. */
function ceilMs(ms: number): number {
  // The division is off by an ulp or so: 1000.0000000000001 must still read as 1000.
  return Math.max(0, Math.ceil(ms - ms * 4 * Number.EPSILON));
}

/**
 * The smallest whole number of milliseconds after which a bucket refilled to now holds `cost`.
 * Rounding the exact wait up can be one off either way in floating point, so the neighbours are
 * checked with the very arithmetic the next call will do: a client that waits exactly this long
 * is never refused again, and one that comes back a millisecond earlier always is.
 */
function waitFor(state: BucketState, cost: number, config: BucketConfig): number {
  const wait = Math.max(1, ceilMs(msFor(cost - state.tokens, config)));
  if (!Number.isFinite(state.updatedAt)) return wait; // no finite reading yet: nothing to check against
  const fits = (ms: number) => tokensAt(state, state.updatedAt + ms, config) + TOKEN_SLACK >= cost;
  if (wait > 1 && fits(wait - 1)) return wait - 1;
  return fits(wait) ? wait : wait + 1;
}

/** The decision for a bucket already refilled to now; removes the tokens when allowed. */
function take(state: BucketState, cost: number, config: BucketConfig): RateLimitDecision {
  const resetAfter = () => ceilMs(msFor(config.capacity - state.tokens, config));
  if (cost > config.capacity) {
    // No amount of waiting fills a bucket beyond its capacity: say so instead of a wait.
    return { allowed: false, remaining: state.tokens, retryAfterMs: Infinity, resetAfterMs: resetAfter() };
  }
  if (state.tokens + TOKEN_SLACK >= cost) {
    state.tokens = Math.max(0, state.tokens - cost);
    return { allowed: true, remaining: state.tokens, retryAfterMs: 0, resetAfterMs: resetAfter() };
  }
  return {
    allowed: false,
    remaining: state.tokens,
    retryAfterMs: waitFor(state, cost, config),
    resetAfterMs: resetAfter(),
  };
}

function requireCost(cost: number): void {
  requirePositive("cost", cost);
}

/** One token bucket: bursts up to `capacity`, sustained `refillPerSecond`. Starts full. */
export class TokenBucket {
  readonly #config: BucketConfig;
  readonly #time: SteadyTime;
  readonly #state: BucketState;

  constructor(options: TokenBucketOptions) {
    this.#config = validateConfig(options);
    this.#time = new SteadyTime(options.clock ?? systemClock);
    this.#state = { tokens: this.#config.capacity, updatedAt: this.#time.now() };
  }

  /** Takes `cost` tokens if they are there; otherwise takes nothing and says how long to wait. */
  tryRemove(cost = 1): RateLimitDecision {
    requireCost(cost);
    refill(this.#state, this.#time.now(), this.#config);
    return take(this.#state, cost, this.#config);
  }

  /** Tokens available now (possibly fractional), without taking any. */
  available(): number {
    refill(this.#state, this.#time.now(), this.#config);
    return this.#state.tokens;
  }
}

/**
 * A token bucket per key, in bounded memory. A bucket left alone for capacity/rate seconds is
 * full again, exactly like a bucket never seen, so forgetting it loses nothing: idle buckets
 * are dropped as time passes. A flood of distinct keys (one per spoofed IP, say) is held back
 * by `maxKeys`, which forgets the least recently used key; that one key then starts full again,
 * the price of staying up.
 */
export class TokenBucketLimiter {
  readonly #config: BucketConfig;
  readonly #time: SteadyTime;
  readonly #maxKeys: number;
  /** How long an untouched bucket takes to be full again; after that it carries no state. */
  readonly #idleMs: number;
  /** Map order is touch order: least recently used first, so idle keys sit at the front. */
  readonly #buckets = new Map<string, BucketState>();
  #lastKey: string | undefined;
  /** No bucket can be idle before this instant: the sweep is skipped until then. */
  #nextSweepAt = -Infinity;

  constructor(options: TokenBucketLimiterOptions) {
    this.#config = validateConfig(options);
    this.#time = new SteadyTime(options.clock ?? systemClock);
    this.#maxKeys = options.maxKeys ?? 100_000;
    if (!Number.isInteger(this.#maxKeys) || this.#maxKeys < 1)
      throw new RangeError(`maxKeys must be a positive integer (got ${this.#maxKeys})`);
    this.#idleMs = msFor(this.#config.capacity, this.#config);
  }

  /** Keys currently tracked. */
  get size(): number {
    return this.#buckets.size;
  }

  /** Takes `cost` tokens from `key`'s bucket if they are there; see TokenBucket#tryRemove. */
  tryRemove(key: string, cost = 1): RateLimitDecision {
    requireCost(cost);
    // One steady "now" for every bucket keeps the touch order sorted by time, which the idle
    // sweep relies on, even when the clock steps backwards.
    const now = this.#time.now();
    this.#sweepIdle(now);
    const state = this.#touch(key, now);
    refill(state, now, this.#config);
    return take(state, cost, this.#config);
  }

  #touch(key: string, now: number): BucketState {
    let state = this.#buckets.get(key);
    if (state === undefined) {
      if (this.#buckets.size >= this.#maxKeys) {
        const leastRecent = this.#buckets.keys().next().value as string;
        this.#buckets.delete(leastRecent);
      }
      state = { tokens: this.#config.capacity, updatedAt: now };
      this.#buckets.set(key, state);
    } else if (key !== this.#lastKey) {
      // Move to the most recently used end. A hot key repeating itself skips the churn.
      this.#buckets.delete(key);
      this.#buckets.set(key, state);
    }
    this.#lastKey = key;
    return state;
  }

  /** Drops every bucket idle long enough to be full. Amortised O(1): each key is dropped once. */
  // Starting a Map's iteration walks past the entries deleted from its front until V8 compacts
  // the table, so a sweep on every call costs O(keys) under churn (measured: 0.09x
  // rate-limiter-flexible over 100k keys). The oldest bucket says when the next one can be idle.
  #sweepIdle(now: number): void {
    if (now < this.#nextSweepAt) return;
    for (const [key, state] of this.#buckets) {
      // Written as "not yet idle" so that a clock with no finite reading yet keeps everything.
      if (!(now - state.updatedAt >= this.#idleMs)) {
        this.#nextSweepAt = state.updatedAt + this.#idleMs;
        return;
      }
      this.#buckets.delete(key);
    }
    this.#nextSweepAt = -Infinity;
  }
}
