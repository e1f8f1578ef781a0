/**
 * Kata `histogram`: an HDR (high dynamic range) histogram.
 *
 * A load test records hundreds of thousands of latencies, from tens of microseconds to tens of
 * seconds, and then asks for the 99.9th percentile. Keeping every value costs memory that
 * grows with the run; fixed-width buckets are either too coarse for fast requests or too many
 * for slow ones. HdrHistogram's answer: log-linear buckets. Each power of two gets the same
 * number of linear slots, so every value is kept to a fixed number of significant decimal
 * digits, in one array whose size depends only on the range and the precision.
 *
 * Build it:
 * - the constructor takes the highest value to accept (an integer >= 2) and 0 to 5 significant
 *   figures, and throws RangeError for anything else;
 * - recordValue(value, count) takes integers from 0 to highestTrackableValue and a count that
 *   is a positive integer (RangeError otherwise, recording nothing);
 * - min, max, mean and stdDeviation (population) are exact, not read back from buckets;
 * - valueAtPercentile(p) is within 10^-significantFigures of the exact nearest-rank value, and
 *   exactly the minimum at p0 and the maximum at p100;
 * - recordCorrectedValue(value, expectedInterval) also records the values that requests stuck
 *   behind a slow one would have measured (HdrHistogram's recordValueWithExpectedInterval);
 * - merge(other) and reset().
 *
 * Every RangeError's message names what is at fault by the name used here: the option
 * (highestTrackableValue, significantFigures) or the argument (value, count, the interval,
 * percentile). The tests look for that name in any case, with or without spaces between its
 * words ("significant figures" will do); the rest of the message is yours.
 *
 * The tests (tests/histogram.test.ts) compare you with the exact values and with
 * hdr-histogram-js on seeded random and adversarial data. The other katas of this week record
 * their latencies (in microseconds) in this class.
 *
 * Keep the exported names and signatures: the tests import them.
 */
import { NotImplementedError } from "#kata";

export interface HistogramOptions {
  /** The largest value the histogram accepts (values are integers from 0 up to this). */
  highestTrackableValue: number;
  /** Decimal digits kept at every magnitude, an integer from 0 to 5. */
  significantFigures: number;
}

export class Histogram {
  readonly highestTrackableValue: number;
  readonly significantFigures: number;

  /** Creates an empty histogram; throws RangeError for an impossible configuration. */
  constructor(options: HistogramOptions) {
    // TODO: validate, then size the counts array: how many slots per power of two does
    // `significantFigures` need, and how many powers of two does `highestTrackableValue` need?
    this.highestTrackableValue = options.highestTrackableValue;
    this.significantFigures = options.significantFigures;
    throw new NotImplementedError("histogram");
  }

  /** How many values were recorded (synthetic corrected values included). */
  get totalCount(): number {
    // TODO
    throw new NotImplementedError("histogram");
  }

  /** The smallest value recorded, exactly; 0 when empty. */
  get min(): number {
    // TODO
    throw new NotImplementedError("histogram");
  }

  /** The largest value recorded, exactly; 0 when empty. */
  get max(): number {
    // TODO
    throw new NotImplementedError("histogram");
  }

  /** The arithmetic mean of the recorded values, exactly; 0 when empty. */
  get mean(): number {
    // TODO: a running mean, so that merge can combine two of them.
    throw new NotImplementedError("histogram");
  }

  /** The population standard deviation of the recorded values; 0 when empty. */
  get stdDeviation(): number {
    // TODO: beware the sum of squares: at 1e9 +- 1 it has no digits left for the spread.
    throw new NotImplementedError("histogram");
  }

  /** Records `value` `count` times. Values are integers from 0 to highestTrackableValue. */
  recordValue(value: number, count = 1): void {
    // TODO: find the value's slot (which power of two, then which linear sub-bucket).
    void value;
    void count;
    throw new NotImplementedError("histogram");
  }

  /**
   * Records `value` and, when it exceeds `expectedInterval`, also value - interval,
   * value - 2 * interval, ... down to the interval. An interval <= 0 disables the correction;
   * a fractional one is a RangeError.
   */
  recordCorrectedValue(value: number, expectedInterval: number): void {
    // TODO
    void value;
    void expectedInterval;
    throw new NotImplementedError("histogram");
  }

  /**
   * The value at or below which `percentile` percent of the recorded values fall (nearest
   * rank), within the configured relative error and never outside [min, max]. Percentile 0 is
   * the minimum and 100 the maximum, exactly; anything above 100 counts as 100; negative or NaN
   * is a RangeError. 0 when empty.
   */
  valueAtPercentile(percentile: number): number {
    // TODO: the rank is ceil(p / 100 * count), but mind floating point: 7 / 100 * 100 > 7.
    void percentile;
    throw new NotImplementedError("histogram");
  }

  /** Adds every value of `other` (which may be this histogram, or have another precision). */
  merge(other: Histogram): void {
    // TODO: refuse (RangeError, nothing changed) when other's values do not fit.
    void other;
    throw new NotImplementedError("histogram");
  }

  /** Empties the histogram, keeping its configuration and memory. */
  reset(): void {
    // TODO
    throw new NotImplementedError("histogram");
  }
}
