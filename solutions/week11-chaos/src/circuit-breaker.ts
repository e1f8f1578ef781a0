import type { BreakerState, CircuitBreakerOptions, StateChange } from "./breaker-types";
import { type Clock, systemClock } from "./clock";
import { BreakerOpenError, TimeoutError } from "./errors";

export type { BreakerState, CircuitBreakerOptions, StateChange } from "./breaker-types";

interface Bucket {
  /** Which bucket of time this slot holds; one whose index fell out of the window is stale. */
  index: number;
  calls: number;
  failures: number;
}

/**
 * Outcomes of the last `count` buckets of `bucketMs`, in a ring: recording and totalling
 * never allocate, and a bucket that falls out of the window is simply overwritten.
 */
class RollingWindow {
  readonly #ring: Bucket[];

  constructor(
    private readonly bucketMs: number,
    private readonly origin: number,
    count: number,
  ) {
    this.#ring = Array.from({ length: count }, () => ({ index: -1, calls: 0, failures: 0 }));
  }

  #indexAt(now: number): number {
    return Math.floor((now - this.origin) / this.bucketMs);
  }

  record(now: number, failed: boolean): void {
    const index = this.#indexAt(now);
    const slot = this.#ring[((index % this.#ring.length) + this.#ring.length) % this.#ring.length]!;
    if (slot.index !== index) {
      slot.index = index;
      slot.calls = 0;
      slot.failures = 0;
    }
    slot.calls++;
    if (failed) slot.failures++;
  }

  totals(now: number): { calls: number; failures: number } {
    const newest = this.#indexAt(now);
    let calls = 0;
    let failures = 0;
    for (const slot of this.#ring) {
      if (slot.index > newest - this.#ring.length && slot.index <= newest) {
        calls += slot.calls;
        failures += slot.failures;
      }
    }
    return { calls, failures };
  }

  clear(): void {
    for (const slot of this.#ring) {
      slot.calls = 0;
      slot.failures = 0;
    }
  }
}

function check(name: string, value: number, ok: boolean): number {
  if (!Number.isFinite(value) || !ok) throw new RangeError(`${name} is out of range (got ${value})`);
  return value;
}

/**
 * A circuit breaker (Nygard, Release It!): closed while the dependency is healthy, open
 * (failing fast, without calling it) once too many recent calls failed, and half-open after
 * a pause, when exactly one probe decides whether to close again.
 */
export class CircuitBreaker<Args extends unknown[], Result> {
  readonly #action: (...args: Args) => Promise<Result>;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #resetTimeoutMs: number;
  readonly #threshold: number;
  readonly #volume: number;
  readonly #window: RollingWindow;
  readonly #errorFilter: (error: unknown) => boolean;
  readonly #fallback: CircuitBreakerOptions<Args, Result>["fallback"];
  readonly #listeners = new Set<(change: StateChange) => void>();
  #state: BreakerState = "closed";
  /** When the state last changed: for an open breaker, when it opened. */
  #since = 0;
  /** Bumped on every state change: an outcome from an older period decides nothing. */
  #period = 0;
  /** True while the half-open probe is out; every state change ends it. */
  #probing = false;

  constructor(action: (...args: Args) => Promise<Result>, options: CircuitBreakerOptions<Args, Result> = {}) {
    this.#action = action;
    this.#clock = options.clock ?? systemClock;
    this.#timeoutMs = check("timeoutMs", options.timeoutMs ?? 10_000, (options.timeoutMs ?? 1) > 0);
    this.#resetTimeoutMs = check("resetTimeoutMs", options.resetTimeoutMs ?? 30_000, (options.resetTimeoutMs ?? 1) > 0);
    const threshold = options.errorThresholdPercentage ?? 50;
    this.#threshold = check("errorThresholdPercentage", threshold, threshold >= 0 && threshold <= 100);
    const volume = options.volumeThreshold ?? 0;
    this.#volume = check("volumeThreshold", volume, Number.isInteger(volume) && volume >= 0);
    const windowMs = options.rollingWindowMs ?? 10_000;
    const buckets = options.buckets ?? 10;
    check("buckets", buckets, Number.isInteger(buckets) && buckets >= 1);
    check("rollingWindowMs", windowMs, windowMs > 0 && windowMs % buckets === 0);
    this.#window = new RollingWindow(windowMs / buckets, this.#clock.now(), buckets);
    this.#errorFilter = options.errorFilter ?? (() => false);
    this.#fallback = options.fallback;
  }

  /** The state now. An open breaker whose reset timeout has passed reads (and becomes) half-open. */
  get state(): BreakerState {
    this.#refresh();
    return this.#state;
  }

  /** Calls `listener` on every state change; returns a function that unsubscribes it. */
  onStateChange(listener: (change: StateChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Calls the action through the breaker: refused when open, timed out, counted, maybe replaced by the fallback. */
  fire(...args: Args): Promise<Result> {
    this.#refresh();
    if (this.#state === "open" || this.#probing) {
      return this.#fail(new BreakerOpenError(), args);
    }
    if (this.#state === "half-open") this.#probing = true;
    const period = this.#period;
    return this.#withTimeout(args).then(
      (value) => {
        this.#record(period, false);
        return value;
      },
      (error: unknown) => {
        if (this.#errorFilter(error)) {
          this.#record(period, false);
          throw error;
        }
        this.#record(period, true);
        return this.#fail(error, args);
      },
    );
  }

  #withTimeout(args: Args): Promise<Result> {
    let pending: Promise<Result>;
    try {
      pending = this.#action(...args);
    } catch (error) {
      // A synchronous throw inside the action is a failure like any other.
      return Promise.reject(error);
    }
    // A promise settles once: whichever of the answer and the timer comes first decides, and
    // the later one is a no-op (the answer also cancels the timer, so none is left behind).
    return new Promise<Result>((resolve, reject) => {
      const cancel = this.#clock.setTimer(this.#timeoutMs, () => reject(new TimeoutError(this.#timeoutMs)));
      Promise.resolve(pending).then(
        (value) => {
          cancel();
          resolve(value);
        },
        (error: unknown) => {
          cancel();
          reject(error);
        },
      );
    });
  }

  #fail(error: unknown, args: Args): Promise<Result> {
    if (this.#fallback === undefined) return Promise.reject(error);
    const fallback = this.#fallback;
    return Promise.resolve().then(() => fallback(error, ...args));
  }

  #record(period: number, failed: boolean): void {
    // A call that started before the last change (say, closed, finishing after the breaker
    // opened) describes a past the breaker has already acted on.
    if (period !== this.#period) return;
    if (this.#state === "half-open") {
      this.#moveTo(failed ? "open" : "closed"); // which ends the probe
      return;
    }
    const now = this.#clock.now();
    this.#window.record(now, failed);
    if (!failed) return;
    const { calls, failures } = this.#window.totals(now);
    if (calls >= this.#volume && failures * 100 > this.#threshold * calls) this.#moveTo("open");
  }

  #refresh(): void {
    if (this.#state === "open" && this.#clock.now() - this.#since >= this.#resetTimeoutMs) this.#moveTo("half-open");
  }

  #moveTo(to: BreakerState): void {
    const from = this.#state;
    const at = this.#clock.now();
    this.#state = to;
    this.#period++;
    this.#probing = false;
    this.#since = at;
    // Only a closed breaker records outcomes, and a closed period is judged by its own calls
    // alone: the failures that opened the breaker predate the recovery a probe proves.
    this.#window.clear();
    for (const listener of this.#listeners) {
      try {
        listener({ from, to, at });
      } catch {
        // A broken listener must not break the breaker for every caller.
      }
    }
  }
}
