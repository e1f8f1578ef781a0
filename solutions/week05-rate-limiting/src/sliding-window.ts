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

/**
 * The smallest whole number of milliseconds w >= 1 after which `admits(now + w)` holds, for a
 * condition that, once true, stays true as time goes on. `estimate` is the exact answer in real
 * numbers; rounding it up can be one off either way in floating point, so the neighbours are
 * checked with the very arithmetic the next call will do: a client that waits the answer is
 * admitted, and one that comes back a millisecond earlier is not.
 */
function wholeMsUntil(now: number, estimate: number, admits: (at: number) => boolean): number {
  const wait = Math.max(1, Math.ceil(estimate));
  if (wait > 1 && admits(now + wait - 1)) return wait - 1;
  return admits(now + wait) ? wait : wait + 1;
}

interface Config {
  readonly limit: number;
  readonly windowMs: number;
  readonly maxKeys: number;
}

function validate(options: WindowLimiterOptions): Config {
  const { limit, windowMs, maxKeys = 100_000 } = options;
  for (const [name, value] of [
    ["limit", limit],
    ["windowMs", windowMs],
    ["maxKeys", maxKeys],
  ] as const) {
    if (!Number.isInteger(value) || value < 1)
      throw new RangeError(`${name} must be a positive integer (got ${value})`);
  }
  return { limit, windowMs, maxKeys };
}

/**
 * The injected wall clock made steady: a reading earlier than the last one (an NTP step back)
 * is absorbed into an offset, so time stands still at the step and then moves on at the
 * clock's pace. Without it a step back would reopen a fixed window (a free quota) or, held at
 * the old reading, lock every key out until the clock caught up. A reading that is not a
 * finite number is ignored.
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

/**
 * Per-key state kept in touch order (least recently used first), so that keys idle for longer
 * than their state can matter are dropped from the front as time passes, and a flood of new
 * keys evicts the least recently used one. Steady time keeps that order sorted by time.
 */
class KeyedState<S> {
  readonly #entries = new Map<string, { state: S; seenAt: number }>();
  readonly #time: SteadyTime;

  constructor(
    clock: Clock,
    private readonly maxKeys: number,
    /** After this long untouched, a key's state can no longer affect a decision. */
    private readonly idleMs: number,
  ) {
    this.#time = new SteadyTime(clock);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The current monotonic time and `key`'s state (fresh from `create` if unknown or forgotten). */
  touch(key: string, create: () => S): { now: number; state: S } {
    const now = this.#time.now();
    for (const [oldKey, entry] of this.#entries) {
      // "Not yet idle" also keeps everything while the clock has given no finite reading.
      if (!(now - entry.seenAt >= this.idleMs)) break;
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
    const nextWindow = windowStart + windowMs;
    const admits = (at: number) => Math.floor(at / windowMs) * windowMs >= nextWindow;
    return { allowed: false, remaining: 0, retryAfterMs: wholeMsUntil(now, nextWindow - now, admits) };
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
    const oldest = log.times[log.head]!;
    const admits = (at: number) => oldest <= at - windowMs;
    return { allowed: false, remaining: 0, retryAfterMs: wholeMsUntil(now, oldest + windowMs - now, admits) };
  }
}

interface CounterState {
  windowStart: number;
  current: number;
  previous: number;
}

/** Estimates are sums of binary fractions: forgive far less than one request. */
const ESTIMATE_SLACK = 1e-9;

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
  readonly #keys: KeyedState<CounterState>;

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
    const { limit } = this.#config;
    const { now, state } = this.#keys.touch(key, () => ({ windowStart: -Infinity, current: 0, previous: 0 }));
    Object.assign(state, this.#countersAt(state, now));
    const estimate = this.#estimate(state, now);
    if (estimate + 1 <= limit + ESTIMATE_SLACK) {
      state.current += 1;
      return {
        allowed: true,
        remaining: Math.max(0, Math.floor(limit - estimate - 1 + ESTIMATE_SLACK)),
        retryAfterMs: 0,
      };
    }
    const admits = (at: number) => this.#estimate(state, at) + 1 <= limit + ESTIMATE_SLACK;
    return {
      allowed: false,
      remaining: 0,
      retryAfterMs: wholeMsUntil(now, this.#waitMs(state, now - state.windowStart), admits),
    };
  }

  /** The counters as a request at `at` sees them, rolled into its window (nothing written). */
  #countersAt(state: CounterState, at: number): CounterState {
    const windowStart = Math.floor(at / this.#config.windowMs) * this.#config.windowMs;
    if (state.windowStart === windowStart) return state;
    // The previous window only counts when it is the one right before; after a gap both are 0.
    const previous = state.windowStart === windowStart - this.#config.windowMs ? state.current : 0;
    return { windowStart, previous, current: 0 };
  }

  /** The weighted count of the sliding window that ends at `at`. */
  #estimate(state: CounterState, at: number): number {
    const { windowMs } = this.#config;
    const counters = this.#countersAt(state, at);
    return (counters.previous * (windowMs - (at - counters.windowStart))) / windowMs + counters.current;
  }

  /** When the estimate (falling linearly as the previous window slides out) first leaves room. */
  #waitMs(state: CounterState, elapsed: number): number {
    const { limit, windowMs } = this.#config;
    if (state.current + 1 <= limit) {
      // Still this window: previous × (1 − e/w) + current + 1 ≤ limit.
      return windowMs * (1 - (limit - 1 - state.current) / state.previous) - elapsed;
    }
    // Next window, where the current count becomes the previous one.
    return windowMs - elapsed + windowMs * (1 - (limit - 1) / state.current);
  }
}
