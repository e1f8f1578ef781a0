import { type Clock, systemClock } from "./clock";
import type { Decision } from "./decision";

export interface WindowLimiterOptions {
  /** Requests allowed per window. */
  limit: number;
  /** Window length in milliseconds. */
  windowMs: number;
  /** Where time comes from; defaults to the wall clock. */
  clock?: Clock;
  /** Hard cap on tracked keys; past it the least recently used key is forgotten. Default 100 000. */
  maxKeys?: number;
}

const MS_SLACK = 1e-6;

function ceilMs(ms: number): number {
  return Math.max(0, Math.ceil(ms - MS_SLACK));
}

interface Config {
  readonly limit: number;
  readonly windowMs: number;
  readonly maxKeys: number;
}

function validate(options: WindowLimiterOptions): Config {
  const { limit, windowMs, maxKeys = 100_000 } = options;
  for (const [name, value] of [["limit", limit], ["windowMs", windowMs], ["maxKeys", maxKeys]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer (got ${value})`);
  }
  return { limit, windowMs, maxKeys };
}

/**
 * Per-key state kept in touch order (least recently used first), so that keys idle for longer
 * than their state can matter are dropped from the front as time passes, and a flood of new
 * keys evicts the least recently used one. Time is made monotonic here: a clock that steps
 * back is treated as standing still, which keeps the order sorted by time.
 */
class KeyedState<S> {
  readonly #entries = new Map<string, { state: S; seenAt: number }>();
  #latest = -Infinity;

  constructor(
    private readonly clock: Clock,
    private readonly maxKeys: number,
    /** After this long untouched, a key's state can no longer affect a decision. */
    private readonly idleMs: number,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  /** The current monotonic time and `key`'s state (fresh from `create` if unknown or forgotten). */
  touch(key: string, create: () => S): { now: number; state: S } {
    const now = (this.#latest = Math.max(this.#latest, this.clock.now()));
    for (const [oldKey, entry] of this.#entries) {
      if (now - entry.seenAt < this.idleMs) break;
      this.#entries.delete(oldKey);
    }
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      if (this.#entries.size >= this.maxKeys) this.#entries.delete(this.#entries.keys().next().value as string);
      entry = { state: create(), seenAt: now };
    } else {
      this.#entries.delete(key);
      entry.seenAt = now;
    }
    this.#entries.set(key, entry);
    return { now, state: entry.state };
  }
}

/**
 * Fixed windows aligned to the epoch: at most `limit` per [k·w, (k+1)·w). Cheap (one counter),
 * and wrong at the edges: `limit` at the end of one window plus `limit` at the start of the
 * next is 2·limit within a moment. Here as the baseline the sliding limiters improve on.
 */
export class FixedWindowLimiter {
  readonly #config: Config;
  readonly #keys: KeyedState<{ windowStart: number; count: number }>;

  constructor(options: WindowLimiterOptions) {
    this.#config = validate(options);
    this.#keys = new KeyedState(options.clock ?? systemClock, this.#config.maxKeys, this.#config.windowMs);
  }

  /** Keys currently tracked. */
  get size(): number {
    return this.#keys.size;
  }

  /** Counts one request for `key` if its current window has room. */
  tryAcquire(key: string): Decision {
    const { limit, windowMs } = this.#config;
    const { now, state } = this.#keys.touch(key, () => ({ windowStart: -Infinity, count: 0 }));
    const windowStart = Math.floor(now / windowMs) * windowMs;
    if (state.windowStart !== windowStart) {
      state.windowStart = windowStart;
      state.count = 0;
    }
    if (state.count < limit) {
      state.count += 1;
      return { allowed: true, remaining: limit - state.count, retryAfterMs: 0 };
    }
    return { allowed: false, remaining: 0, retryAfterMs: windowStart + windowMs - now };
  }
}

/**
 * The exact sliding window: remembers the time of every admitted request of the last
 * `windowMs` and admits while fewer than `limit` are inside (now - w, now]. Exact, at the cost
 * of up to `limit` timestamps per key. Refused requests are not logged, or a client retrying
 * while limited would keep itself limited forever.
 */
export class SlidingLogLimiter {
  readonly #config: Config;
  readonly #keys: KeyedState<{ times: number[]; head: number; count: number }>;

  constructor(options: WindowLimiterOptions) {
    this.#config = validate(options);
    this.#keys = new KeyedState(options.clock ?? systemClock, this.#config.maxKeys, this.#config.windowMs);
  }

  /** Keys currently tracked. */
  get size(): number {
    return this.#keys.size;
  }

  /** Admits one request for `key` if fewer than `limit` were admitted in the last `windowMs`. */
  tryAcquire(key: string): Decision {
    const { limit, windowMs } = this.#config;
    // A ring of at most `limit` slots, grown on demand: memory is O(min(limit, traffic)) per
    // key, and dropping the oldest is O(1) (Array#shift would be O(n)).
    const { now, state: log } = this.#keys.touch(key, () => ({ times: [], head: 0, count: 0 }));
    // A request admitted at t counts against requests in [t, t + w).
    while (log.count > 0 && log.times[log.head]! <= now - windowMs) {
      log.head = (log.head + 1) % limit;
      log.count -= 1;
    }
    if (log.count < limit) {
      log.times[(log.head + log.count) % limit] = now;
      log.count += 1;
      return { allowed: true, remaining: limit - log.count, retryAfterMs: 0 };
    }
    // Full: room appears when the oldest admission leaves the window.
    return { allowed: false, remaining: 0, retryAfterMs: Math.max(1, log.times[log.head]! + windowMs - now) };
  }
}

/**
 * The sliding counter (Cloudflare's approximation): two counters per key, the current fixed
 * window's and the previous one's, and an estimate of the sliding count that assumes the
 * previous window's requests were spread evenly:
 *
 *     estimate = previous × (1 − f) + current,   f = elapsed fraction of the current window
 *
 * It admits while estimate + 1 ≤ limit. Error bound: within any (t − w, t] it admits at most
 * limit + previous × f, because the estimate charges previous × (1 − f) where the truth can
 * be anything from 0 to previous. It is exact when the previous window's traffic was even,
 * and never admits more than `limit` inside one fixed window.
 */
export class SlidingCounterLimiter {
  readonly #config: Config;
  readonly #keys: KeyedState<{ windowStart: number; current: number; previous: number }>;

  constructor(options: WindowLimiterOptions) {
    this.#config = validate(options);
    // Two windows: after 2·w untouched both counters are stale.
    this.#keys = new KeyedState(options.clock ?? systemClock, this.#config.maxKeys, 2 * this.#config.windowMs);
  }

  /** Keys currently tracked. */
  get size(): number {
    return this.#keys.size;
  }

  /** Admits one request for `key` if the weighted estimate of the sliding count has room. */
  tryAcquire(key: string): Decision {
    const { limit, windowMs } = this.#config;
    const { now, state } = this.#keys.touch(key, () => ({ windowStart: -Infinity, current: 0, previous: 0 }));
    const windowStart = Math.floor(now / windowMs) * windowMs;
    if (state.windowStart !== windowStart) {
      state.previous = state.windowStart === windowStart - windowMs ? state.current : 0;
      state.current = 0;
      state.windowStart = windowStart;
    }
    const elapsed = now - windowStart;
    const estimate = (state.previous * (windowMs - elapsed)) / windowMs + state.current;
    if (estimate + 1 <= limit + 1e-9) {
      state.current += 1;
      return { allowed: true, remaining: Math.max(0, Math.floor(limit - estimate - 1 + 1e-9)), retryAfterMs: 0 };
    }
    return { allowed: false, remaining: 0, retryAfterMs: Math.max(1, this.#waitMs(state, elapsed)) };
  }

  /** When the estimate (falling linearly as the previous window slides out) first leaves room. */
  #waitMs(state: { current: number; previous: number }, elapsed: number): number {
    const { limit, windowMs } = this.#config;
    if (state.current + 1 <= limit) {
      // Still this window: previous × (1 − e/w) + current + 1 ≤ limit.
      const needed = windowMs * (1 - (limit - 1 - state.current) / state.previous);
      return ceilMs(needed - elapsed);
    }
    // Next window, where the current count becomes the previous one.
    const needed = windowMs * (1 - (limit - 1) / state.current);
    return ceilMs(windowMs - elapsed + needed);
  }
}
