// Kata: sliding-window
//
// "100 requests per minute" sounds simple until a client sends 100 at 12:00:59.9 and 100
// more at 12:01:00.1: a fixed window (one counter per calendar minute) lets all 200 through.
// Build three limiters with the same interface and an injected clock:
// - FixedWindowLimiter: the baseline, one counter per key per window aligned to the epoch.
// - SlidingLogLimiter: remembers when each admitted request happened and admits while fewer
//   than `limit` fall in (now - windowMs, now]. Exact; costs up to `limit` timestamps per key.
//   Refused requests are not remembered.
// - SlidingCounterLimiter: two counters per key (this window, the previous one) and the
//   estimate previous × (1 − f) + current, f being the elapsed fraction of this window.
//   Admit while estimate + 1 ≤ limit. Cheap, and its error is bounded (see the README). Its
//   `remaining` is the whole requests still left under the estimate after this one:
//   floor(limit − estimate − 1), where estimate is the value before this request.
// All three:
// - report retryAfterMs, the smallest whole number of ms after which the same request would be
//   admitted (1 ms earlier it would not), also on a clock that reads fractions of a ms;
// - forget a key once its state can no longer matter (untouched for one window for the fixed
//   window and the log, two for the counter), on the first call for any key after that point,
//   and cap tracked keys at `maxKeys`, forgetting the least recently used;
// - take a wall clock as it is: a reading earlier than the latest (an NTP step back) opens no
//   new window and locks nobody out: time stands still at the step, then moves on from the new
//   reading at the clock's pace, so a retryAfterMs already given still holds; a reading that
//   is not a finite number counts as no time passing.
// A RangeError's message names the option at fault: limit, windowMs or maxKeys (the tests
// match the name in any case, with or without spaces between its words).
//
// Tests: tests/sliding-window.test.ts (npm run check week5 sliding-window).
// Keep the exported names and signatures: the tests import them.

import { NotImplementedError } from "#kata";
import type { Clock } from "./clock";
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

/** At most `limit` per fixed window [k·w, (k+1)·w). */
export class FixedWindowLimiter {
  constructor(options: WindowLimiterOptions) {
    // TODO: validate (limit, windowMs and maxKeys positive integers, RangeError otherwise) and
    // keep per-key state.
    throw new NotImplementedError("sliding-window");
  }

  /** Keys currently tracked. */
  get size(): number {
    // TODO
    throw new NotImplementedError("sliding-window");
  }

  /** Counts one request for `key` if its current window has room. */
  tryAcquire(key: string): Decision {
    // TODO
    throw new NotImplementedError("sliding-window");
  }
}

/** The exact sliding window: at most `limit` admissions in any (now - windowMs, now]. */
export class SlidingLogLimiter {
  constructor(options: WindowLimiterOptions) {
    // TODO
    throw new NotImplementedError("sliding-window");
  }

  /** Keys currently tracked. */
  get size(): number {
    // TODO
    throw new NotImplementedError("sliding-window");
  }

  /** Admits one request for `key` if fewer than `limit` were admitted in the last `windowMs`. */
  tryAcquire(key: string): Decision {
    // TODO: drop timestamps that left the window, decide, and say when the oldest one leaves.
    throw new NotImplementedError("sliding-window");
  }
}

/** The sliding counter: previous × (1 − f) + current, admitted while that + 1 ≤ limit. */
export class SlidingCounterLimiter {
  constructor(options: WindowLimiterOptions) {
    // TODO
    throw new NotImplementedError("sliding-window");
  }

  /** Keys currently tracked. */
  get size(): number {
    // TODO
    throw new NotImplementedError("sliding-window");
  }

  /** Admits one request for `key` if the weighted estimate of the sliding count has room. */
  tryAcquire(key: string): Decision {
    // TODO: roll the counters when a new window starts (the previous one is only the window
    // right before this one), weigh, decide, and solve for the wait when refusing.
    throw new NotImplementedError("sliding-window");
  }
}
