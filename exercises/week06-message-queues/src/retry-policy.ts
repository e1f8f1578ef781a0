// Kata `retrying-worker`, part 1: the retry policy, as pure functions (no Redis, no clock of
// their own, no Math.random: everything is passed in, so the tests pin every number).
//
// Build:
// - `classifyFailure`: is an error worth retrying? A 4xx from the upstream will be refused
//   again (except 408, 425, 429); 5xx, network errors and unknown errors may pass later;
//   BullMQ's UnrecoverableError is permanent by definition.
// - `backoffDelayMs`: exponential backoff (baseDelayMs, then twice that, ...) capped at
//   maxDelayMs, with jitter taking away a random share of up to `jitter` of the delay.
// - `parseRetryAfter`: the Retry-After header of RFC 9110 (delay-seconds or an HTTP-date).
// - `retryDelayMs`: the BullMQ backoff for a failure: the upstream's Retry-After when the
//   error carries a valid one (or -1, "give up", if it asks for more than maxDelayMs), else
//   the exponential backoff.
// - `assertRetryPolicy`: a RangeError for a policy that makes no sense.
// Tests: tests/retrying-worker.test.ts (`npm run check week6 retrying-worker`).
// Keep the exported names and signatures: the tests import them.

import { NotImplementedError } from "#kata";

/** How a worker retries: attempts, an exponential backoff ceiling, and jitter under it. */
export interface RetryPolicy {
  /** Total attempts, the first one included (BullMQ's `attempts`). */
  readonly attempts: number;
  /** The delay ceiling before the second attempt; it doubles for every attempt after that. */
  readonly baseDelayMs: number;
  /** No single delay exceeds this, and a Retry-After beyond it is not worth waiting for. */
  readonly maxDelayMs: number;
  /** 0 to 1: the share of the ceiling that is randomised away (1 is "full jitter"). */
  readonly jitter: number;
}

/** An HTTP upstream answered with an error status, maybe with a Retry-After header value. */
export class UpstreamError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The raw Retry-After header value, if the response had one. */
    readonly retryAfter?: string,
  ) {
    super(message);
    this.name = "UpstreamError";
  }
}

export type FailureKind = "transient" | "permanent";

/**
 * Throws a RangeError unless attempts is an integer >= 1, baseDelayMs is finite and >= 0,
 * maxDelayMs is finite and >= baseDelayMs, and jitter is between 0 and 1. The message names the
 * field at fault (`attempts`, `baseDelayMs`, `maxDelayMs` or `jitter`).
 */
export function assertRetryPolicy(policy: RetryPolicy): void {
  // TODO: refuse a policy that would retry never, forever, or by NaN milliseconds.
  throw new NotImplementedError("retrying-worker");
}

/** Whether retrying can help. */
export function classifyFailure(error: unknown): FailureKind {
  // TODO: UnrecoverableError (check its name) and 4xx other than 408/425/429 are permanent; the rest transient.
  throw new NotImplementedError("retrying-worker");
}

/**
 * The delay before the next attempt after `attemptsMade` attempts (1 after the first
 * failure): a ceiling of baseDelayMs * 2^(attemptsMade - 1), capped at maxDelayMs, minus
 * ceiling * jitter * random(), rounded to whole milliseconds.
 */
export function backoffDelayMs(attemptsMade: number, policy: RetryPolicy, random: () => number): number {
  // TODO: beware 2 ** 2000 = Infinity, and 0 * Infinity = NaN.
  throw new NotImplementedError("retrying-worker");
}

/**
 * A Retry-After header value (RFC 9110 section 10.2.3) as milliseconds from `nowMs`:
 * delay-seconds or an HTTP-date (IMF-fixdate, or the obsolete RFC 850 and asctime forms);
 * a date in the past is 0. Undefined when the value is neither.
 */
export function parseRetryAfter(value: string, nowMs: number): number | undefined {
  // TODO: digits only are seconds; otherwise try the three HTTP-date forms (all UTC).
  throw new NotImplementedError("retrying-worker");
}

/**
 * The BullMQ backoff for a failed attempt: the upstream's Retry-After when the error carries a
 * valid one, else the exponential backoff. -1 tells BullMQ to stop retrying.
 */
export function retryDelayMs(
  attemptsMade: number,
  error: unknown,
  policy: RetryPolicy,
  random: () => number,
  nowMs: number,
): number {
  // TODO: honour a valid Retry-After exactly (or -1 beyond maxDelayMs); otherwise backoffDelayMs.
  throw new NotImplementedError("retrying-worker");
}
