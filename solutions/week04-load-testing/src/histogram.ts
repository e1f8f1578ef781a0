/**
 * An HDR (high dynamic range) histogram: log-linear buckets that keep a fixed number of
 * significant decimal digits at every magnitude, so a microsecond and an hour share one
 * fixed-size array and every percentile is within a known relative error.
 *
 * Layout (HdrHistogram's, with a unit of 1): bucket 0 holds `subBucketCount` slots of width 1;
 * each following bucket covers the next power of two with `subBucketCount / 2` slots twice as
 * wide as the previous bucket's. A slot's width divided by the smallest value it holds is
 * therefore at most 1 / (subBucketCount / 2) <= 10^-significantFigures.
 */

export interface HistogramOptions {
  /** The largest value the histogram accepts (values are integers from 0 up to this). */
  highestTrackableValue: number;
  /** Decimal digits kept at every magnitude, an integer from 0 to 5. */
  significantFigures: number;
}

const TWO_POW_32 = 2 ** 32;

/** floor(log2(v)) for a positive safe integer, exact where Math.log2 rounds near powers of two. */
function floorLog2(v: number): number {
  if (v < TWO_POW_32) return 31 - Math.clz32(v);
  // Division by a power of two is exact for doubles, so the high word is exact too.
  return 63 - Math.clz32(Math.floor(v / TWO_POW_32));
}

function isNonNegativeSafeInteger(v: number): boolean {
  return Number.isSafeInteger(v) && v >= 0;
}

export class Histogram {
  readonly highestTrackableValue: number;
  readonly significantFigures: number;

  readonly #subBucketHalfCountMagnitude: number;
  readonly #subBucketHalfCount: number;
  /** Values below this land in bucket 0, where every integer has its own slot. */
  readonly #bucketZeroLimit: number;
  // Float64 counts stay exact up to 2^53 and never wrap, unlike Int32.
  readonly #counts: Float64Array;

  #totalCount = 0;
  #min = Number.POSITIVE_INFINITY;
  #max = Number.NEGATIVE_INFINITY;
  // Running mean and sum of squared deviations (Welford/Chan): exact statistics without a
  // sum of squares that loses every digit when the spread is small next to the mean.
  #mean = 0;
  #m2 = 0;

  /** Creates an empty histogram; throws RangeError for an impossible configuration. */
  constructor(options: HistogramOptions) {
    const highest = options.highestTrackableValue;
    const figures = options.significantFigures;
    if (!Number.isSafeInteger(highest) || highest < 2) {
      throw new RangeError(`highestTrackableValue must be an integer >= 2, got ${highest}`);
    }
    if (!Number.isInteger(figures) || figures < 0 || figures > 5) {
      throw new RangeError(`significantFigures must be an integer from 0 to 5, got ${figures}`);
    }
    this.highestTrackableValue = highest;
    this.significantFigures = figures;

    // Unit resolution is needed up to 2 * 10^figures: "+-1 at 1000" must still hold at 1999.
    const largestWithUnitResolution = 2 * 10 ** figures;
    const subBucketCountMagnitude = Math.max(Math.ceil(Math.log2(largestWithUnitResolution)), 1);
    this.#subBucketHalfCountMagnitude = subBucketCountMagnitude - 1;
    this.#subBucketHalfCount = 2 ** this.#subBucketHalfCountMagnitude;
    const subBucketCount = 2 * this.#subBucketHalfCount;
    this.#bucketZeroLimit = subBucketCount;

    let buckets = 1;
    for (let smallestUntrackable = this.#bucketZeroLimit; smallestUntrackable <= highest; smallestUntrackable *= 2) {
      buckets++;
    }
    // Bucket 0 uses all its slots, every other bucket only its upper half.
    this.#counts = new Float64Array((buckets + 1) * this.#subBucketHalfCount);
  }

  /** How many values were recorded (synthetic corrected values included). */
  get totalCount(): number {
    return this.#totalCount;
  }

  /** The smallest value recorded, exactly; 0 when empty. */
  get min(): number {
    return this.#totalCount === 0 ? 0 : this.#min;
  }

  /** The largest value recorded, exactly; 0 when empty. */
  get max(): number {
    return this.#totalCount === 0 ? 0 : this.#max;
  }

  /** The arithmetic mean of the recorded values, exactly; 0 when empty. */
  get mean(): number {
    return this.#mean;
  }

  /** The population standard deviation of the recorded values; 0 when empty. */
  get stdDeviation(): number {
    return this.#totalCount === 0 ? 0 : Math.sqrt(this.#m2 / this.#totalCount);
  }

  /** Records `value` `count` times. Values are integers from 0 to highestTrackableValue. */
  recordValue(value: number, count = 1): void {
    this.#checkValue(value);
    if (!Number.isSafeInteger(count) || count < 1) {
      throw new RangeError(`count must be a positive integer, got ${count}`);
    }
    this.#add(value, count);
  }

  /**
   * Records `value` and, when it exceeds `expectedInterval`, the values that the requests stuck
   * behind it would have measured: value - interval, value - 2 * interval, ... down to the
   * interval (HdrHistogram's recordValueWithExpectedInterval). An interval <= 0 disables the
   * correction. The work grows with value / interval, as in HdrHistogram.
   */
  recordCorrectedValue(value: number, expectedInterval: number): void {
    this.#checkValue(value);
    if (expectedInterval <= 0) {
      this.#add(value, 1);
      return;
    }
    if (!Number.isSafeInteger(expectedInterval)) {
      throw new RangeError(`expectedInterval must be an integer, got ${expectedInterval}`);
    }
    this.#add(value, 1);
    for (let missing = value - expectedInterval; missing >= expectedInterval; missing -= expectedInterval) {
      this.#add(missing, 1);
    }
  }

  /**
   * The value at or below which `percentile` percent of the recorded values fall (nearest rank),
   * reported as the highest value of its slot, clamped to the recorded range. Percentile 0 is
   * the minimum; anything above 100 counts as 100. Returns 0 when empty.
   */
  valueAtPercentile(percentile: number): number {
    if (Number.isNaN(percentile) || percentile < 0) {
      throw new RangeError(`percentile must be between 0 and 100, got ${percentile}`);
    }
    if (this.#totalCount === 0) return 0;
    if (percentile === 0) return this.#min;
    const exactRank = (Math.min(percentile, 100) / 100) * this.#totalCount;
    // 7% of 100 is 7.000000000000001 in binary floating point: step one ulp down before
    // rounding up, or the rank lands one value too high.
    const rank = Math.max(1, Math.ceil(exactRank - exactRank * Number.EPSILON));
    let seen = 0;
    const counts = this.#counts;
    for (let index = 0; index < counts.length; index++) {
      seen += counts[index]!;
      if (seen >= rank) {
        const highestInSlot = this.#valueFromIndex(index) + this.#slotWidth(index) - 1;
        return Math.min(highestInSlot, this.#max);
      }
    }
    // The counts always add up to totalCount; a value recorded outside the array would land here.
    throw new Error(`histogram counts do not add up to ${this.#totalCount}: a value was recorded outside the array`);
  }

  /**
   * Adds every value of `other` to this histogram, which may have another precision or be this
   * very histogram. Each of the other's slots is re-recorded at its highest value (capped at the
   * other's max), so percentiles stay at or above the truth; with the same layout that is the
   * same slot, so nothing is lost. Throws RangeError, changing nothing, when the other's values
   * do not fit.
   */
  merge(other: Histogram): void {
    if (other.#totalCount === 0) return;
    if (other.#max > this.highestTrackableValue) {
      throw new RangeError(
        `cannot merge: the other histogram holds ${other.#max}, above this one's highestTrackableValue ${this.highestTrackableValue}`,
      );
    }
    // Read the statistics before writing: `other` may be `this`. The counts need no copy: with
    // the same layout every slot goes back to itself, read once before it is written.
    const { count, mean, m2, min, max } = {
      count: other.#totalCount,
      mean: other.#mean,
      m2: other.#m2,
      min: other.#min,
      max: other.#max,
    };
    const source = other.#counts;
    for (let index = 0; index < source.length; index++) {
      const c = source[index]!;
      if (c === 0) continue;
      const representative = Math.min(other.#valueFromIndex(index) + other.#slotWidth(index) - 1, max);
      this.#counts[this.#indexOf(representative)]! += c;
    }
    this.#combineMoments(count, mean, m2);
    if (min < this.#min) this.#min = min;
    if (max > this.#max) this.#max = max;
  }

  /** Empties the histogram, keeping its configuration and memory. */
  reset(): void {
    this.#counts.fill(0);
    this.#totalCount = 0;
    this.#min = Number.POSITIVE_INFINITY;
    this.#max = Number.NEGATIVE_INFINITY;
    this.#mean = 0;
    this.#m2 = 0;
  }

  #checkValue(value: number): void {
    if (!isNonNegativeSafeInteger(value) || value > this.highestTrackableValue) {
      throw new RangeError(`value must be an integer from 0 to ${this.highestTrackableValue}, got ${value}`);
    }
  }

  #add(value: number, count: number): void {
    this.#counts[this.#indexOf(value)]! += count;
    if (value < this.#min) this.#min = value;
    if (value > this.#max) this.#max = value;
    // A group of `count` equal values has no spread of its own: Chan's combination with m2 = 0.
    const total = this.#totalCount + count;
    const delta = value - this.#mean;
    this.#mean += (delta * count) / total;
    this.#m2 += (delta * delta * this.#totalCount * count) / total;
    this.#totalCount = total;
  }

  #combineMoments(count: number, mean: number, m2: number): void {
    const total = this.#totalCount + count;
    const delta = mean - this.#mean;
    this.#mean += (delta * count) / total;
    this.#m2 += m2 + (delta * delta * this.#totalCount * count) / total;
    this.#totalCount = total;
  }

  #indexOf(value: number): number {
    if (value < this.#bucketZeroLimit) return value;
    const bucket = floorLog2(value) - this.#subBucketHalfCountMagnitude;
    const subBucket = Math.floor(value / 2 ** bucket);
    return (bucket + 1) * this.#subBucketHalfCount + (subBucket - this.#subBucketHalfCount);
  }

  #valueFromIndex(index: number): number {
    let bucket = Math.floor(index / this.#subBucketHalfCount) - 1;
    let subBucket = (index % this.#subBucketHalfCount) + this.#subBucketHalfCount;
    if (bucket < 0) {
      subBucket -= this.#subBucketHalfCount;
      bucket = 0;
    }
    return subBucket * 2 ** bucket;
  }

  #slotWidth(index: number): number {
    const bucket = Math.max(Math.floor(index / this.#subBucketHalfCount) - 1, 0);
    return 2 ** bucket;
  }
}
