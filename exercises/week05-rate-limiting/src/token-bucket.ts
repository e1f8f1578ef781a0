// Kata: token-bucket
//
// Every API you will ever protect needs "at most N at once, R per second on average". The
// token bucket says exactly that: a bucket holds up to `capacity` tokens, gains
// `refillPerSecond` tokens continuously (5/s over 100 ms is 0.5 token, not zero), and a
// request costing c goes through only if c tokens are there, taking them.
//
// Build two things, with time read only from the injected clock:
// - TokenBucket: one bucket. tryRemove(cost) answers allowed, remaining (possibly fractional),
//   retryAfterMs (the smallest whole number of ms after which this very request would succeed,
//   so that one ms earlier it would not; Infinity when the cost exceeds the capacity, because
//   no wait helps) and resetAfterMs (until full again). A refused request takes nothing.
// - TokenBucketLimiter: a bucket per key, in bounded memory. A bucket idle long enough to be
//   full again (capacity / refillPerSecond seconds) is the same as one never seen: the first
//   call, for any key, after that point forgets it. And cap the keys at `maxKeys` (a positive
//   integer), forgetting the least recently used, so a flood of spoofed keys cannot exhaust
//   the heap.
// Both take the clock as it is, and it is a wall clock:
// - a reading earlier than the latest one (an NTP step back) is neither a refill nor a drain,
//   and it locks nobody out: time stands still at the step, then moves on from the new reading
//   at the clock's pace, so a retryAfterMs already given still holds;
// - a reading that is not a finite number (a broken clock) counts as no time passing.
// A RangeError's message names what is at fault: capacity, refillPerSecond, cost or maxKeys
// (the tests match the name in any case, with or without spaces between its words).
//
// Tests: tests/token-bucket.test.ts (npm run check week5 token-bucket).
// Keep the exported names and signatures: the tests import them.

import { NotImplementedError } from "#kata";
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

/** One token bucket: bursts up to `capacity`, sustained `refillPerSecond`. Starts full. */
export class TokenBucket {
  readonly #clock: Clock;

  constructor(options: TokenBucketOptions) {
    this.#clock = options.clock ?? systemClock;
    // TODO: validate capacity and refillPerSecond (positive, finite: RangeError otherwise)
    // and start with a full bucket, stamped with the clock's time.
    throw new NotImplementedError("token-bucket");
  }

  /** Takes `cost` tokens if they are there; otherwise takes nothing and says how long to wait. */
  tryRemove(cost = 1): RateLimitDecision {
    // TODO: refill for the time since the last update (see the header for a clock that steps
    // back or reads NaN), then decide. A cost that is not positive and finite is a RangeError.
    throw new NotImplementedError("token-bucket");
  }

  /** Tokens available now (possibly fractional), without taking any. */
  available(): number {
    // TODO: refill, then report.
    throw new NotImplementedError("token-bucket");
  }
}

/** A token bucket per key, in bounded memory. */
export class TokenBucketLimiter {
  constructor(options: TokenBucketLimiterOptions) {
    // TODO: validate like TokenBucket (and maxKeys: a positive integer, RangeError otherwise);
    // choose a structure that knows which keys were used least recently.
    throw new NotImplementedError("token-bucket");
  }

  /** Keys currently tracked. */
  get size(): number {
    // TODO
    throw new NotImplementedError("token-bucket");
  }

  /** Takes `cost` tokens from `key`'s bucket if they are there; see TokenBucket#tryRemove. */
  tryRemove(key: string, cost = 1): RateLimitDecision {
    // TODO: forget buckets that are full again, find or create this key's bucket (evicting the
    // least recently used one when at maxKeys), then decide as TokenBucket does.
    throw new NotImplementedError("token-bucket");
  }
}
