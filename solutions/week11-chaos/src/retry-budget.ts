import { type Clock, systemClock } from "./clock";
import { BreakerOpenError } from "./errors";

export interface RetryBudgetOptions {
  /** Retries allowed per request, over the window (0.1: at most 10 % extra load). */
  readonly ratio: number;
  /** Retries always allowed per second of the window, so a quiet service can still retry. Default 0. */
  readonly minRetriesPerSecond?: number;
  /** The window requests and retries are counted over; default 10 000, in 10 buckets. */
  readonly windowMs?: number;
  readonly clock?: Clock;
}

const BUCKETS = 10;

/**
 * A retry budget (as in Finagle and gRPC): retries are allowed while they stay under a share
 * of the requests seen recently. However badly a dependency fails, retries add at most
 * `ratio` to its load, instead of multiplying it by the number of attempts.
 */
export class RetryBudget {
  readonly #ratio: number;
  readonly #reserve: number;
  readonly #bucketMs: number;
  readonly #clock: Clock;
  readonly #requests = new Array<number>(BUCKETS).fill(0);
  readonly #retries = new Array<number>(BUCKETS).fill(0);
  readonly #indexes = new Array<number>(BUCKETS).fill(Number.NEGATIVE_INFINITY);

  constructor(options: RetryBudgetOptions) {
    const windowMs = options.windowMs ?? 10_000;
    const min = options.minRetriesPerSecond ?? 0;
    if (!(options.ratio >= 0 && Number.isFinite(options.ratio))) {
      throw new RangeError(`ratio must be >= 0 (got ${options.ratio})`);
    }
    if (!(min >= 0 && Number.isFinite(min))) throw new RangeError(`minRetriesPerSecond must be >= 0 (got ${min})`);
    if (!(windowMs > 0) || windowMs % BUCKETS !== 0) {
      throw new RangeError(`windowMs must be a positive multiple of ${BUCKETS} (got ${windowMs})`);
    }
    this.#ratio = options.ratio;
    this.#reserve = (min * windowMs) / 1000;
    this.#bucketMs = windowMs / BUCKETS;
    this.#clock = options.clock ?? systemClock;
  }

  /** Counts one original request (not a retry). */
  recordRequest(): void {
    this.#requests[this.#slot()]!++;
  }

  /** Takes one retry from the budget; false when the budget is spent (then do not retry). */
  tryRetry(): boolean {
    const slot = this.#slot();
    let requests = 0;
    let retries = 0;
    for (let i = 0; i < BUCKETS; i++) {
      requests += this.#requests[i]!;
      retries += this.#retries[i]!;
    }
    // Compare whole retries with the allowance, with a little slack for 0.1 * 10 = 0.9999...
    if (retries + 1 > this.#reserve + this.#ratio * requests + 1e-9) return false;
    this.#retries[slot]!++;
    return true;
  }

  /** The slot of the current bucket, after emptying every bucket that fell out of the window. */
  #slot(): number {
    const index = Math.floor(this.#clock.now() / this.#bucketMs);
    for (let i = 0; i < BUCKETS; i++) {
      if (this.#indexes[i]! <= index - BUCKETS) {
        this.#indexes[i] = Number.NEGATIVE_INFINITY;
        this.#requests[i] = 0;
        this.#retries[i] = 0;
      }
    }
    const slot = ((index % BUCKETS) + BUCKETS) % BUCKETS;
    if (this.#indexes[slot] !== index) {
      this.#indexes[slot] = index;
      this.#requests[slot] = 0;
      this.#retries[slot] = 0;
    }
    return slot;
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

/**
 * Runs `attempt` (given its number, 1, 2, ...) until it succeeds, an error is not retryable,
 * the attempts run out or the budget says no; then rejects with the last error. Retry n waits
 * a random time in [0, min(maxDelayMs, baseDelayMs × 2^(n−1))): full jitter, so callers that
 * failed together do not come back together.
 */
export async function retry<T>(attempt: (n: number) => Promise<T>, options: RetryOptions): Promise<T> {
  if (!Number.isInteger(options.maxAttempts) || options.maxAttempts < 1) {
    throw new RangeError(`maxAttempts must be an integer >= 1 (got ${options.maxAttempts})`);
  }
  const random = options.random ?? Math.random;
  const clock = options.clock ?? systemClock;
  const isRetryable = options.isRetryable ?? ((error: unknown) => !(error instanceof BreakerOpenError));
  options.budget.recordRequest();
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (n >= options.maxAttempts || !isRetryable(error) || !options.budget.tryRetry()) throw error;
      const cap = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (n - 1));
      await new Promise<void>((resolve) => clock.setTimer(random() * cap, resolve));
    }
  }
}
