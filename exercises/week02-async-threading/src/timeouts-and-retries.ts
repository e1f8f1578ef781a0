// Kata: timeouts-and-retries (week 2, Async & Threading).
//
// Every call to another service needs a deadline, and the transient failures need another
// try: but a retry loop without backoff and jitter turns one server's hiccup into a
// synchronized storm from every client, and a deadline that does not cancel the work just
// stops waiting while the work goes on.
//
// 1. `withTimeout(fn, ms, { signal })` calls `fn(signal)` and settles with the first of:
//    fn's own outcome; the deadline, rejecting with a DOMException named "TimeoutError"
//    (what AbortSignal.timeout() uses); the caller's abort, rejecting with its reason
//    (the same object). The signal given to fn aborts with that same reason. An already
//    aborted caller signal rejects at once without calling fn. The deadline's timer is
//    cleared as soon as fn settles (AbortSignal.timeout() cannot be cleared, so build the
//    deadline from an AbortController and a timer), and no listener is left behind on the
//    caller's signal (AbortSignal.any() helps). `ms` is a number from 0 to 2 147 483 647
//    (2^31 - 1, the longest delay a Node timer holds: setTimeout quietly fires a longer one
//    after 1 ms); anything else (negative, NaN, Infinity, longer) rejects with RangeError
//    without calling fn.
// 2. `retry(fn, policy)` calls `fn(attempt, signal)` (attempt counts from 1) until it
//    succeeds, the error is not retryable, or `maxAttempts` attempts failed (reject with
//    the last error). Before retry n (n = 0 for the first retry) it sleeps
//    `random() * min(maxDelayMs, baseDelayMs * 2 ** n)`: exponential backoff, capped, with
//    full jitter. `sleep` and `random` are injectable; the defaults are a real timer that
//    an abort cuts short (clearing it) and Math.random. The sleep receives a signal that
//    aborts with `policy.signal` (that signal itself, or one derived from it). Once
//    `policy.signal` aborts, no new attempt starts and retry rejects with its reason.
//    A bad policy rejects with RangeError: `maxAttempts` a whole number >= 1 (Infinity is
//    refused: bound your retries), `baseDelayMs` finite and >= 0, `maxDelayMs` from 0 to
//    2^31 - 1. The exported `sleep(ms)` rejects an `ms` outside 0..2^31 - 1 the same way.
//
// Tests: tests/timeouts-and-retries.test.ts (run `npm run check week2 timeouts-and-retries`).
// Keep the exported names and signatures: the tests import them.
import { NotImplementedError } from "#kata";

/** What the work receives: a signal that aborts at the deadline or when the caller aborts. */
export type Cancellable<T> = (signal: AbortSignal) => Promise<T>;

export interface TimeoutOptions {
  /** The caller's own cancellation; its reason is what the returned promise rejects with. */
  signal?: AbortSignal;
}

/**
 * Runs `fn` with a deadline of `ms` milliseconds. The promise settles with the first of: the
 * work's own outcome, the deadline (a `TimeoutError` DOMException) or the caller's abort (its
 * reason). The signal handed to `fn` aborts with that same reason so the work can stop.
 */
export function withTimeout<T>(fn: Cancellable<T>, ms: number, options: TimeoutOptions = {}): Promise<T> {
  // TODO: reject early for a bad `ms` or an already-aborted `options.signal`.
  // TODO: a deadline controller aborted by setTimeout with new DOMException(message, "TimeoutError"),
  //       combined with the caller's signal through AbortSignal.any().
  // TODO: race fn(combinedSignal) against the combined signal's "abort" event; on any
  //       outcome clear the timer and remove your listener.
  void fn;
  void ms;
  void options;
  throw new NotImplementedError("timeouts-and-retries");
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
  // TODO: setTimeout that resolves; an abort listener that clears it and rejects with signal.reason.
  void ms;
  void signal;
  throw new NotImplementedError("timeouts-and-retries");
}

/**
 * Calls `fn` until it succeeds, the error is not retryable, the attempts run out (rejects with
 * the last error) or the signal aborts (rejects with its reason). `fn` gets the 1-based attempt.
 */
export async function retry<T>(
  fn: (attempt: number, signal?: AbortSignal) => Promise<T>,
  policy: RetryPolicy,
): Promise<T> {
  // TODO: validate the policy (RangeError).
  // TODO: loop: check the signal, try fn(attempt, signal); on error decide: abort's reason,
  //       last attempt, not retryable, or sleep the full-jitter delay and go again.
  void fn;
  void policy;
  throw new NotImplementedError("timeouts-and-retries");
}
