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

/**
 * The Google SRE workbook's recommendation for a 30-day SLO: page on 2 % of the budget spent in
 * an hour (14.4) or 5 % in six hours (6), ticket on 10 % in three days (1). Each long window
 * has a short one, 1/12 of it, so an alert stops soon after the burning does.
 */
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

function requirePositive(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0)
    throw new RangeError(`${name} must be a positive, finite number (got ${value})`);
}

/**
 * Error-budget burn rates over sliding windows, and the multiwindow alert they imply. Memory is
 * one bucket per resolution step of the longest window, whatever the traffic.
 */
export class SloBurnRate {
  readonly #budget: number;
  readonly #clock: Clock;
  readonly #rules: readonly BurnRateRule[];
  readonly #resolution: number;
  readonly #totals: Float64Array;
  readonly #bads: Float64Array;
  /** Which absolute bucket each ring slot currently holds; a stale slot counts nothing. */
  readonly #stamps: Float64Array;
  #latest = Number.NEGATIVE_INFINITY;

  constructor(options: SloOptions) {
    const { objective } = options;
    if (!(objective > 0 && objective < 1))
      throw new RangeError(`objective must be strictly between 0 and 1 (got ${objective})`);
    this.#budget = 1 - objective;
    this.#clock = options.clock;
    this.#rules = options.rules ?? SRE_WORKBOOK_RULES;
    this.#resolution = options.resolutionMs ?? MINUTE;
    requirePositive("resolutionMs", this.#resolution);
    let longest = 0;
    for (const rule of this.#rules) {
      requirePositive("longWindowMs", rule.longWindowMs);
      requirePositive("shortWindowMs", rule.shortWindowMs);
      requirePositive("burnRate", rule.burnRate);
      if (rule.shortWindowMs > rule.longWindowMs)
        throw new RangeError("a rule's short window must not be longer than its long one");
      if (rule.shortWindowMs < this.#resolution)
        throw new RangeError("resolutionMs must not be coarser than the shortest window");
      longest = Math.max(longest, rule.longWindowMs);
    }
    const slots = Math.ceil(longest / this.#resolution) + 1;
    this.#totals = new Float64Array(slots);
    this.#bads = new Float64Array(slots);
    this.#stamps = new Float64Array(slots).fill(-1);
  }

  /** Counts `total` events at the clock's time, `bad` of which failed the SLI. */
  record(total: number, bad: number): void {
    if (!Number.isFinite(total) || !Number.isFinite(bad) || bad < 0 || total < bad) {
      throw new RangeError(`record(total, bad) needs 0 <= bad <= total (got ${total}, ${bad})`);
    }
    const bucket = Math.floor(this.#now() / this.#resolution);
    const slot = bucket % this.#totals.length;
    if (this.#stamps[slot] !== bucket) {
      this.#stamps[slot] = bucket;
      this.#totals[slot] = 0;
      this.#bads[slot] = 0;
    }
    this.#totals[slot] += total;
    this.#bads[slot] += bad;
  }

  /** Bad events over all events in the window ending now; 0 with no traffic. */
  errorRatio(windowMs: number): number {
    requirePositive("windowMs", windowMs);
    const now = this.#now();
    const last = Math.floor(now / this.#resolution);
    // A bucket counts while it overlaps (now - window, now]; never more buckets than the ring holds.
    const first = Math.max(Math.floor((now - windowMs) / this.#resolution), last - this.#totals.length + 1);
    let total = 0;
    let bad = 0;
    for (let bucket = first; bucket <= last; bucket++) {
      const slot = bucket % this.#totals.length;
      if (this.#stamps[slot] !== bucket) continue;
      total += this.#totals[slot]!;
      bad += this.#bads[slot]!;
    }
    return total === 0 ? 0 : bad / total;
  }

  /** How fast the window spends the error budget: 1 spends exactly the budget over the SLO period. */
  burnRate(windowMs: number): number {
    return this.errorRatio(windowMs) / this.#budget;
  }

  /** Which rules fire now, and whether that means a page or a ticket. */
  evaluate(): BurnRateAlert {
    const firing = this.#rules.filter(
      (rule) => this.burnRate(rule.longWindowMs) > rule.burnRate && this.burnRate(rule.shortWindowMs) > rule.burnRate,
    );
    return {
      page: firing.some((rule) => rule.severity === "page"),
      ticket: firing.some((rule) => rule.severity === "ticket"),
      firing,
    };
  }

  /** The clock, never stepping back: an NTP correction must not resurrect or lose a bucket. */
  #now(): number {
    this.#latest = Math.max(this.#latest, this.#clock.now());
    return this.#latest;
  }
}
