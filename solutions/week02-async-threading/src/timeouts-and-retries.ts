// Reference solution for the timeouts-and-retries kata: a deadline that cancels the work it
// guards, and retries with capped exponential backoff and full jitter.

/** What the work receives: a signal that aborts at the deadline or when the caller aborts. */
export type Cancellable<T> = (signal: AbortSignal) => Promise<T>;

export interface TimeoutOptions {
  /** The caller's own cancellation; its reason is what the returned promise rejects with. */
  signal?: AbortSignal;
}

/**
 * The longest delay a Node timer holds (2^31 - 1 ms, about 24.8 days). setTimeout does not
 * refuse a longer one: it warns (TimeoutOverflowWarning) and fires after 1 ms, which would
 * turn a generous deadline into an instant timeout. Longer delays are refused instead.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

function isTimerDelay(ms: number): boolean {
  return ms >= 0 && ms <= MAX_TIMER_MS;
}

/** The same error AbortSignal.timeout() uses, so callers can test `error.name === "TimeoutError"`. */
function timeoutError(ms: number): DOMException {
  return new DOMException(`The operation timed out after ${ms} ms`, "TimeoutError");
}

/**
 * Runs `fn` with a deadline of `ms` milliseconds. The promise settles with the first of: the
 * work's own outcome, the deadline (a `TimeoutError` DOMException) or the caller's abort (its
 * reason). The signal handed to `fn` aborts with that same reason so the work can stop.
 */
export function withTimeout<T>(fn: Cancellable<T>, ms: number, options: TimeoutOptions = {}): Promise<T> {
  const { signal } = options;
  if (!isTimerDelay(ms))
    return Promise.reject(new RangeError(`ms must be a number from 0 to ${MAX_TIMER_MS}, got ${ms}`));
  if (signal?.aborted) return Promise.reject(signal.reason);

  // AbortSignal.timeout() would do, except that its timer can never be cancelled: after a
  // success it still fires and aborts a signal the work may have passed on (a response body
  // stream, a child request). So the deadline is a plain timer that is cleared on settle.
  // It stays ref'd: a pending deadline is pending work, and the process should wait for it
  // rather than exit with the promise unsettled.
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(timeoutError(ms)), ms);
  // AbortSignal.any() keeps only weak links to its sources, so a long-lived caller signal
  // does not collect one listener per call the way a hand-written addEventListener would.
  const combined = signal ? AbortSignal.any([signal, deadline.signal]) : deadline.signal;

  return new Promise<T>((resolve, reject) => {
    const settle = () => {
      clearTimeout(timer);
      combined.removeEventListener("abort", onAbort);
    };
    const onAbort = () => {
      settle();
      reject(combined.reason);
    };
    combined.addEventListener("abort", onAbort, { once: true });

    let work: Promise<T>;
    try {
      work = Promise.resolve(fn(combined));
    } catch (error) {
      work = Promise.reject(error);
    }
    work.then(
      (value) => {
        settle();
        resolve(value); // no-op if the deadline or the caller won the race
      },
      (error: unknown) => {
        settle();
        reject(error);
      },
    );
  });
}

export interface RetryPolicy {
  /** Total attempts, the first one included (>= 1). */
  maxAttempts: number;
  /** The backoff ceiling before the first retry; it doubles for each retry after that. */
  baseDelayMs: number;
  /** The cap on the ceiling, so backoff cannot grow without bound. */
  maxDelayMs: number;
  /** Whether an error is worth another attempt (default: every error). */
  isRetryable?: (error: unknown, attempt: number) => boolean;
  /** Waits `ms`; must reject with `signal.reason` when the signal aborts (default: a real timer). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** A number in [0, 1) (default: Math.random). */
  random?: () => number;
  /** Stops retrying: no new attempt starts after it aborts, and retry rejects with its reason. */
  signal?: AbortSignal;
}

/** A timer you can abort; rejects with the signal's reason and clears its timer when it does. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (!isTimerDelay(ms))
    return Promise.reject(new RangeError(`ms must be a number from 0 to ${MAX_TIMER_MS}, got ${ms}`));
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * "Full jitter" (AWS Architecture Blog, Exponential Backoff And Jitter): a uniform draw in
 * [0, min(cap, base * 2^retry)). Spreading retries over the whole window is what breaks up
 * the synchronized waves that plain exponential backoff sends at a recovering server.
 */
function fullJitterDelay(
  retry: number,
  policy: Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs">,
  random: () => number,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return random() * ceiling;
}

function validate(policy: RetryPolicy): void {
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) {
    throw new RangeError(`maxAttempts must be an integer >= 1, got ${policy.maxAttempts}`);
  }
  if (!(policy.baseDelayMs >= 0) || !Number.isFinite(policy.baseDelayMs)) {
    throw new RangeError(`baseDelayMs must be a finite number >= 0, got ${policy.baseDelayMs}`);
  }
  // The cap bounds every delay, so a cap a timer can hold keeps every sleep honest.
  if (!isTimerDelay(policy.maxDelayMs)) {
    throw new RangeError(`maxDelayMs must be a number from 0 to ${MAX_TIMER_MS}, got ${policy.maxDelayMs}`);
  }
}

/**
 * Calls `fn` until it succeeds, the error is not retryable, the attempts run out (rejects with
 * the last error) or the signal aborts (rejects with its reason). `fn` gets the 1-based attempt.
 */
export async function retry<T>(
  fn: (attempt: number, signal?: AbortSignal) => Promise<T>,
  policy: RetryPolicy,
): Promise<T> {
  validate(policy);
  const { signal, isRetryable = () => true, sleep: wait = sleep, random = Math.random } = policy;

  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await fn(attempt, signal);
    } catch (error) {
      // Once the caller has given up, the error is a consequence of the abort (or noise
      // after it): report the caller's reason and never start another attempt.
      signal?.throwIfAborted();
      if (attempt >= policy.maxAttempts || !isRetryable(error, attempt)) throw error;
      await wait(fullJitterDelay(attempt - 1, policy, random), signal);
    }
  }
}
