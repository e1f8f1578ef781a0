import type { Clock } from "./clock";

/** The three states of a circuit breaker. */
export type BreakerState = "closed" | "open" | "half-open";

/** What an onStateChange listener is told. */
export interface StateChange {
  readonly from: BreakerState;
  readonly to: BreakerState;
  /** clock.now() when the change happened (or was noticed: see resetTimeoutMs). */
  readonly at: number;
}

export interface CircuitBreakerOptions<Args extends unknown[], Result> {
  /** A call running longer than this rejects with TimeoutError and counts as a failure. Default 10 000. */
  readonly timeoutMs?: number;
  /** How long the breaker stays open before it lets one probe through (half-open). Default 30 000. */
  readonly resetTimeoutMs?: number;
  /**
   * The breaker opens when, after a failure is recorded, the failures are strictly more than
   * this percentage of the calls in the window. Default 50.
   */
  readonly errorThresholdPercentage?: number;
  /** Calls the window must hold before the breaker may open at all. Default 0. */
  readonly volumeThreshold?: number;
  /** Length of the rolling window. Default 10 000. */
  readonly rollingWindowMs?: number;
  /** Buckets the window is made of; must divide rollingWindowMs. Default 10. */
  readonly buckets?: number;
  /**
   * True for an error that says nothing about the dependency's health (a 4xx: the caller's
   * fault). Such an error is passed to the caller as it is, without the fallback, and counts
   * as a success. Default: no error is filtered.
   */
  readonly errorFilter?: (error: unknown) => boolean;
  /**
   * Answers instead of failing: called with the error (BreakerOpenError when the call was
   * refused, TimeoutError, or the action's own error) and the call's arguments. Its result
   * (or its rejection) becomes the call's.
   */
  readonly fallback?: (error: unknown, ...args: Args) => Result | Promise<Result>;
  /** Time and timers; default the system clock. */
  readonly clock?: Clock;
}
