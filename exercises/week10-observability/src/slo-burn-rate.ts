// Kata: red-middleware
//
// An SLO says "99.9 % of requests succeed over 30 days"; its error budget is the 0.1 % left.
// The burn rate is how fast you spend it: the error ratio over a window divided by the budget
// (1 spends exactly the budget in 30 days; 14.4 spends 2 % of it in one hour). Alerting on a
// single window either pages too late or keeps paging long after the fire is out, so the
// Google SRE workbook pairs each long window with a short one (1/12 of it) and fires only while
// BOTH burn faster than the rule's rate (strictly greater).
// Build SloBurnRate over an injected clock:
// - record(total, bad): events at the clock's time (RangeError unless 0 <= bad <= total).
// - errorRatio(windowMs) and burnRate(windowMs) over the window ending now; 0 with no traffic.
//   Windows slide, counted in buckets of resolutionMs (default one minute): an event counts
//   while its bucket overlaps the window, so it may count up to one resolution step longer.
// - evaluate(): the rules firing now, and whether that means a page or a ticket.
// - Memory bounded by the longest window, not by the traffic or by how long the process runs.
//   A clock that steps back is clamped to the latest time seen.
// - RangeError for an objective not strictly between 0 and 1, a non-positive window or rate,
//   a short window longer than its long one, or a resolution coarser than the shortest window.
//
// Tests: tests/slo-burn-rate.test.ts (npm run check week10 red-middleware).
// Keep the exported names and signatures: the tests import them.

import { NotImplementedError } from "#kata";
import type { Clock } from "./clock";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** One multiwindow alert: fire while both windows burn the error budget faster than `burnRate`. */
export interface BurnRateRule {
  severity: "page" | "ticket";
  longWindowMs: number;
  shortWindowMs: number;
  /** How many times faster than "exactly the whole budget over the SLO period". */
  burnRate: number;
}

/** The SRE workbook's rules for a 30-day SLO: 2 % of the budget in 1 h, 5 % in 6 h, 10 % in 3 days. */
export const SRE_WORKBOOK_RULES: readonly BurnRateRule[] = [
  { severity: "page", longWindowMs: HOUR, shortWindowMs: 5 * MINUTE, burnRate: 14.4 },
  { severity: "page", longWindowMs: 6 * HOUR, shortWindowMs: 30 * MINUTE, burnRate: 6 },
  { severity: "ticket", longWindowMs: 3 * DAY, shortWindowMs: 6 * HOUR, burnRate: 1 },
];

export interface SloOptions {
  /** The target fraction of good events, strictly between 0 and 1 (0.999 for "three nines"). */
  objective: number;
  clock: Clock;
  /** Default SRE_WORKBOOK_RULES. */
  rules?: readonly BurnRateRule[];
  /** Events are counted in buckets this wide. Default one minute; at most the shortest window. */
  resolutionMs?: number;
}

export interface BurnRateAlert {
  /** Wake someone up. */
  page: boolean;
  /** Open a ticket for working hours. */
  ticket: boolean;
  /** The rules whose two windows both burn too fast right now. */
  firing: readonly BurnRateRule[];
}

/** Error-budget burn rates over sliding windows, and the multiwindow alert they imply. */
export class SloBurnRate {
  constructor(options: SloOptions) {
    // TODO: validate; allocate a ring of buckets covering the longest window.
    throw new NotImplementedError("red-middleware");
  }

  /** Counts `total` events at the clock's time, `bad` of which failed the SLI. */
  record(total: number, bad: number): void {
    // TODO: find the bucket for now; a slot still holding an older bucket starts from zero.
    throw new NotImplementedError("red-middleware");
  }

  /** Bad events over all events in the window ending now; 0 with no traffic. */
  errorRatio(windowMs: number): number {
    // TODO
    throw new NotImplementedError("red-middleware");
  }

  /** How fast the window spends the error budget: errorRatio / (1 - objective). */
  burnRate(windowMs: number): number {
    // TODO
    throw new NotImplementedError("red-middleware");
  }

  /** Which rules fire now, and whether that means a page or a ticket. */
  evaluate(): BurnRateAlert {
    // TODO: a rule fires while burnRate(long) > rate AND burnRate(short) > rate.
    throw new NotImplementedError("red-middleware");
  }
}
