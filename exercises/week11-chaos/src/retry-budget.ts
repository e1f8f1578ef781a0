// Kata: resilient-service (retries with a budget)
//
// Retrying is how one failure becomes three: a dependency struggling at 100 % of its
// capacity gets 300 % the moment every caller retries twice. A retry budget caps the extra
// load: retries may add at most `ratio` of the requests seen recently (10 % is usual), plus a
// small reserve so that a quiet service can still retry at all.
//
// Build, with time and timers only from the injected clock:
// - RetryBudget: recordRequest() counts an original request; tryRetry() takes one retry and
//   answers true while retries in the window stay within
//   minRetriesPerSecond × windowMs / 1000 + ratio × requests in the window,
//   and false (taking nothing) otherwise. The window is windowMs (default 10 000) in 10
//   buckets: a request or retry counted at t still counts at t + windowMs − windowMs / 10,
//   and no longer at t + windowMs. Out-of-range options: RangeError.
// - retry(attempt, options): calls attempt(1), attempt(2)... until one succeeds. It records
//   one request per retry() call; before retry n it needs an error that isRetryable (default:
//   anything but BreakerOpenError), attempts left (maxAttempts counts the first) and a yes from
//   the budget, then waits random() × min(maxDelayMs, baseDelayMs × 2^(n−1)) ms (full jitter).
//   Otherwise it rejects with the last error.
//
// Tests: tests/retry-budget.test.ts (npm run check week11 resilient-service).
// Keep the exported names and signatures: the tests import them.

import { NotImplementedError } from "#kata";
import { type Clock, systemClock } from "./clock";

export interface RetryBudgetOptions {
  /** Retries allowed per request, over the window (0.1: at most 10 % extra load). */
  readonly ratio: number;
  /** Retries always allowed per second of the window, so a quiet service can still retry. Default 0. */
  readonly minRetriesPerSecond?: number;
  /** The window requests and retries are counted over; default 10 000, in 10 buckets. */
  readonly windowMs?: number;
  readonly clock?: Clock;
}

/** Retries allowed while they stay under a share of the recent requests. */
export class RetryBudget {
  readonly #clock: Clock;

  constructor(options: RetryBudgetOptions) {
    this.#clock = options.clock ?? systemClock;
    // TODO: validate (RangeError) and set up 10 buckets of windowMs / 10.
    throw new NotImplementedError("resilient-service");
  }

  /** Counts one original request (not a retry). */
  recordRequest(): void {
    // TODO
    throw new NotImplementedError("resilient-service");
  }

  /** Takes one retry from the budget; false when the budget is spent (then do not retry). */
  tryRetry(): boolean {
    // TODO
    throw new NotImplementedError("resilient-service");
  }
}

export interface RetryOptions {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  /** The cap of the first retry's delay; doubles each retry. */
  readonly baseDelayMs: number;
  /** No delay cap goes above this. */
  readonly maxDelayMs: number;
  readonly budget: RetryBudget;
  /** In [0, 1); default Math.random. */
  readonly random?: () => number;
  readonly clock?: Clock;
  /** Whether an error is worth another attempt. Default: anything but BreakerOpenError. */
  readonly isRetryable?: (error: unknown) => boolean;
}

/** Runs `attempt` until it succeeds or retrying is not allowed any more; rejects with the last error. */
export async function retry<T>(attempt: (n: number) => Promise<T>, options: RetryOptions): Promise<T> {
  // TODO: budget.recordRequest() once; then attempt, and on failure check retryable, attempts
  // left and budget.tryRetry() before waiting the full-jitter delay (options.clock.setTimer).
  throw new NotImplementedError("resilient-service");
}
