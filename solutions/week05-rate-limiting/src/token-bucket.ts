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
// "exactly" 1 may hold 0.9999999999999999. Comparisons forgive far less than any real cost,
// and waits are rounded up only when they exceed a whole millisecond by more than noise.
const TOKEN_SLACK = 1e-9;
const MS_SLACK = 1e-6;

/** Rounds a wait up to whole milliseconds, ignoring float noise just above an integer. */
function ceilMs(ms: number): number {
  return Math.max(0, Math.ceil(ms - MS_SLACK));
}

function requirePositive(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive, finite number (got ${value})`);
}

interface BucketState {
  tokens: number;
  /** The latest instant this bucket has been refilled to; never moves backwards. */
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

/** Adds the tokens earned since the last update. A clock that went backwards earns nothing. */
function refill(state: BucketState, now: number, config: BucketConfig): void {
  if (now <= state.updatedAt) return;
  // Multiply before dividing: (100 * 5) / 1000 is exactly 0.5, 100 * (5 / 1000) need not be.
  const earned = ((now - state.updatedAt) * config.refillPerSecond) / 1000;
  state.tokens = Math.min(config.capacity, state.tokens + earned);
  state.updatedAt = now;
}

function msFor(tokens: number, config: BucketConfig): number {
  return (tokens * 1000) / config.refillPerSecond;
}

/** The decision for a bucket already refilled to now; removes the tokens when allowed. */
function take(state: BucketState, cost: number, config: BucketConfig): RateLimitDecision {
  if (cost > config.capacity) {
    // No amount of waiting fills a bucket beyond its capacity: say so instead of a wait.
    return { allowed: false, remaining: state.tokens, retryAfterMs: Infinity, resetAfterMs: ceilMs(msFor(config.capacity - state.tokens, config)) };
  }
  if (state.tokens + TOKEN_SLACK >= cost) {
    state.tokens = Math.max(0, state.tokens - cost);
    return { allowed: true, remaining: state.tokens, retryAfterMs: 0, resetAfterMs: ceilMs(msFor(config.capacity - state.tokens, config)) };
  }
  return {
    allowed: false,
    remaining: state.tokens,
    retryAfterMs: Math.max(1, ceilMs(msFor(cost - state.tokens, config))),
    resetAfterMs: ceilMs(msFor(config.capacity - state.tokens, config)),
  };
}

function requireCost(cost: number): void {
  requirePositive("cost", cost);
}

/** One token bucket: bursts up to `capacity`, sustained `refillPerSecond`. Starts full. */
export class TokenBucket {
  readonly #config: BucketConfig;
  readonly #clock: Clock;
  readonly #state: BucketState;

  constructor(options: TokenBucketOptions) {
    this.#config = validateConfig(options);
    this.#clock = options.clock ?? systemClock;
    this.#state = { tokens: this.#config.capacity, updatedAt: this.#clock.now() };
  }

  /** Takes `cost` tokens if they are there; otherwise takes nothing and says how long to wait. */
  tryRemove(cost = 1): RateLimitDecision {
    requireCost(cost);
    refill(this.#state, this.#clock.now(), this.#config);
    return take(this.#state, cost, this.#config);
  }

  /** Tokens available now (possibly fractional), without taking any. */
  available(): number {
    refill(this.#state, this.#clock.now(), this.#config);
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
  readonly #clock: Clock;
  readonly #maxKeys: number;
  /** How long an untouched bucket takes to be full again; after that it carries no state. */
  readonly #idleMs: number;
  /** Map order is touch order: least recently used first, so idle keys sit at the front. */
  readonly #buckets = new Map<string, BucketState>();
  #latest = -Infinity;
  #lastKey: string | undefined;

  constructor(options: TokenBucketLimiterOptions) {
    this.#config = validateConfig(options);
    this.#clock = options.clock ?? systemClock;
    this.#maxKeys = options.maxKeys ?? 100_000;
    if (!Number.isInteger(this.#maxKeys) || this.#maxKeys < 1) throw new RangeError(`maxKeys must be a positive integer (got ${this.#maxKeys})`);
    this.#idleMs = msFor(this.#config.capacity, this.#config);
  }

  /** Keys currently tracked. */
  get size(): number {
    return this.#buckets.size;
  }

  /** Takes `cost` tokens from `key`'s bucket if they are there; see TokenBucket#tryRemove. */
  tryRemove(key: string, cost = 1): RateLimitDecision {
    requireCost(cost);
    // One monotonic "now" for every bucket keeps the touch order sorted by time, which the
    // idle sweep relies on, even when the clock steps backwards.
    const now = (this.#latest = Math.max(this.#latest, this.#clock.now()));
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
  #sweepIdle(now: number): void {
    for (const [key, state] of this.#buckets) {
      if (now - state.updatedAt < this.#idleMs) return;
      this.#buckets.delete(key);
    }
  }
}
