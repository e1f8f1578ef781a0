import { seededRandom } from "#fixtures/random";
import * as hdr from "hdr-histogram-js";
import { describe, expect, it } from "vitest";
import { Histogram } from "../src/histogram";
import { mentions } from "#fixtures/messages";

const HOUR_US = 3_600_000_000;
const PERCENTILES = [0, 0.1, 1, 7, 14, 25, 33.3, 50, 57, 75, 90, 95, 99, 99.9, 99.99, 99.999, 100];

/** The exact nearest-rank percentile of sorted values, in integer arithmetic (p has at most 3 decimals). */
function exactPercentile(sorted: readonly number[], percentile: number): number {
  if (percentile === 0) return sorted[0]!;
  const milli = Math.round(percentile * 1000);
  const rank = Math.max(1, Math.ceil((milli * sorted.length) / 100_000));
  return sorted[rank - 1]!;
}

function exactMean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

function exactStdDeviation(values: readonly number[]): number {
  const mean = exactMean(values);
  return Math.sqrt(values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / values.length);
}

function fill(histogram: Histogram, values: readonly number[]): Histogram {
  for (const v of values) histogram.recordValue(v);
  return histogram;
}

function oracle(values: readonly number[], significantFigures: 1 | 2 | 3 | 4 | 5, highest = HOUR_US) {
  const histogram = hdr.build({
    numberOfSignificantValueDigits: significantFigures,
    highestTrackableValue: highest,
    autoResize: false,
    bitBucketSize: 64,
  });
  for (const v of values) histogram.recordValue(v);
  return histogram;
}

/** Every percentile is within 10^-figures of the truth, and of the oracle when one is given. */
function expectAccurate(
  histogram: Histogram,
  values: readonly number[],
  figures: number,
  reference?: { getValueAtPercentile(p: number): number },
) {
  const sorted = [...values].sort((a, b) => a - b);
  const relativeError = 10 ** -figures;
  for (const p of PERCENTILES) {
    const truth = exactPercentile(sorted, p);
    const got = histogram.valueAtPercentile(p);
    expect(
      Math.abs(got - truth),
      `p${p}: got ${got}, the exact value is ${truth}; with ${figures} significant figures the error must stay within ${truth * relativeError}`,
    ).toBeLessThanOrEqual(truth * relativeError);
    if (reference) {
      const expected = reference.getValueAtPercentile(p);
      expect(Math.abs(got - expected), `p${p}: got ${got}, hdr-histogram-js says ${expected}`).toBeLessThanOrEqual(
        expected * relativeError,
      );
    }
  }
}

function logUniform(seed: number, count: number, maxExponent: number): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => Math.floor(Math.exp(random() * maxExponent)));
}

describe("configuration", () => {
  it("accepts 0 to 5 significant figures and a highest trackable value of at least 2", () => {
    for (const significantFigures of [0, 1, 2, 3, 4, 5]) {
      const histogram = new Histogram({ highestTrackableValue: 2, significantFigures });
      histogram.recordValue(2);
      expect(histogram.totalCount, `${significantFigures} significant figures is a valid precision`).toBe(1);
    }
  });

  it("rejects an impossible precision or range with a RangeError", () => {
    const bad: Array<[{ highestTrackableValue: number; significantFigures: number }, string]> = [
      [{ highestTrackableValue: HOUR_US, significantFigures: 6 }, "significantFigures"],
      [{ highestTrackableValue: HOUR_US, significantFigures: -1 }, "significantFigures"],
      [{ highestTrackableValue: HOUR_US, significantFigures: 2.5 }, "significantFigures"],
      [{ highestTrackableValue: 1, significantFigures: 3 }, "highestTrackableValue"],
      [{ highestTrackableValue: 1000.5, significantFigures: 3 }, "highestTrackableValue"],
      [{ highestTrackableValue: Number.POSITIVE_INFINITY, significantFigures: 3 }, "highestTrackableValue"],
    ];
    for (const [options, name] of bad) {
      expect(() => new Histogram(options), `${JSON.stringify(options)} describes no usable histogram`).toThrow(
        RangeError,
      );
      expect(() => new Histogram(options), `the message names the option at fault (${name})`).toThrow(mentions(name));
    }
  });
});

describe("recording and statistics", () => {
  it("reports a count of zero and zero for every statistic while empty", () => {
    const histogram = new Histogram({ highestTrackableValue: HOUR_US, significantFigures: 3 });
    expect(histogram.totalCount).toBe(0);
    expect(
      { min: histogram.min, max: histogram.max, mean: histogram.mean, stdDeviation: histogram.stdDeviation },
      "an empty histogram has no Infinity or NaN to leak into a report",
    ).toEqual({
      min: 0,
      max: 0,
      mean: 0,
      stdDeviation: 0,
    });
    expect(histogram.valueAtPercentile(99)).toBe(0);
  });

  it("keeps the exact min, max, mean and population standard deviation, not bucket approximations", () => {
    const values = [1, 2, 3, 4, 1_000_003];
    const histogram = fill(new Histogram({ highestTrackableValue: HOUR_US, significantFigures: 2 }), values);
    expect(histogram.totalCount).toBe(5);
    expect(histogram.min, "the smallest value recorded, exactly").toBe(1);
    expect(histogram.max, "the largest value recorded, exactly (a bucket bound would be 1_003_519)").toBe(1_000_003);
    expect(histogram.mean).toBeCloseTo(exactMean(values), 6);
    expect(histogram.stdDeviation, "population standard deviation: divide by n, not n - 1").toBeCloseTo(
      exactStdDeviation(values),
      6,
    );
  });

  it("records a value `count` times when given a count", () => {
    const once = new Histogram({ highestTrackableValue: HOUR_US, significantFigures: 3 });
    const counted = new Histogram({ highestTrackableValue: HOUR_US, significantFigures: 3 });
    for (let i = 0; i < 40; i++) once.recordValue(250);
    once.recordValue(90_000);
    once.recordValue(90_000);
    counted.recordValue(250, 40);
    counted.recordValue(90_000, 2);
    expect(counted.totalCount).toBe(42);
    expect(counted.mean).toBeCloseTo(once.mean, 9);
    expect(counted.stdDeviation).toBeCloseTo(once.stdDeviation, 6);
    for (const p of [50, 95, 96, 100]) expect(counted.valueAtPercentile(p), `p${p}`).toBe(once.valueAtPercentile(p));
  });

  it("keeps the standard deviation exact when the spread is tiny next to the values", () => {
    // A sum of squares near 3e21 has lost every digit of a variance of 2/3: use a running mean.
    const values = Array.from({ length: 3000 }, (_, i) => 1_000_000_000 + (i % 3));
    const histogram = fill(new Histogram({ highestTrackableValue: HOUR_US, significantFigures: 3 }), values);
    expect(histogram.mean).toBeCloseTo(1_000_000_001, 3);
    expect(histogram.stdDeviation, "sqrt(2/3): values 1e9, 1e9+1, 1e9+2 in equal numbers").toBeCloseTo(
      Math.sqrt(2 / 3),
      4,
    );
  });

  it("accepts 0 and the highest trackable value itself, also when that is a power of two", () => {
    for (const highest of [1_000_000, 2 ** 21, 2 ** 11]) {
      const histogram = new Histogram({ highestTrackableValue: highest, significantFigures: 3 });
      histogram.recordValue(0);
      histogram.recordValue(highest);
      expect(histogram.min).toBe(0);
      expect(histogram.max).toBe(highest);
      expect(histogram.valueAtPercentile(50)).toBe(0);
      expect(
        histogram.valueAtPercentile(100),
        `${highest} needs a slot of its own: the array must reach one past the last power of two`,
      ).toBe(highest);
    }
  });

  it("rejects negative, fractional, non-finite and too-large values, and bad counts, with a RangeError that records nothing", () => {
    const histogram = new Histogram({ highestTrackableValue: 1_000_000, significantFigures: 3 });
    histogram.recordValue(500);
    for (const value of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 1_000_001]) {
      expect(() => histogram.recordValue(value), `recordValue(${value}) must be refused`).toThrow(RangeError);
      expect(() => histogram.recordValue(value), "the message names the argument at fault (value)").toThrow(
        mentions("value"),
      );
    }
    for (const count of [0, -2, 1.5]) {
      expect(() => histogram.recordValue(10, count), `a count of ${count} must be refused`).toThrow(RangeError);
      expect(() => histogram.recordValue(10, count), "the message names the argument at fault (count)").toThrow(
        mentions("count"),
      );
    }
    expect(histogram.totalCount, "a refused value must not be half-recorded").toBe(1);
    expect([histogram.min, histogram.max]).toEqual([500, 500]);
  });
});

// Oracle comparisons over tens of thousands of values: seconds under a mutation run on a busy machine.
describe("percentiles within the configured relative error", { timeout: 60_000 }, () => {
  it.each([1, 2, 3, 4, 5] as const)(
    "agrees with the exact values and with hdr-histogram-js on a seeded log-uniform sample at %i significant figures",
    (figures) => {
      const values = logUniform(1000 + figures, 20_000, 21); // 1 us to about 20 minutes
      const histogram = fill(new Histogram({ highestTrackableValue: HOUR_US, significantFigures: figures }), values);
      expectAccurate(histogram, values, figures, oracle(values, figures));
    },
  );

  it("stays within 10% of the exact values at 1 significant figure and within 100% at 0", () => {
    const values = logUniform(7, 5_000, 15);
    expectAccurate(fill(new Histogram({ highestTrackableValue: HOUR_US, significantFigures: 1 }), values), values, 1);
    expectAccurate(fill(new Histogram({ highestTrackableValue: HOUR_US, significantFigures: 0 }), values), values, 0);
  });

  it("places powers of two and their neighbours, the bucket edges, in the right bucket up to 2^52", () => {
    const values: number[] = [];
    for (let k = 1; k <= 52; k++) values.push(2 ** k - 1, 2 ** k, 2 ** k + 1);
    const histogram = fill(
      new Histogram({ highestTrackableValue: Number.MAX_SAFE_INTEGER, significantFigures: 3 }),
      values,
    );
    const sorted = [...values].sort((a, b) => a - b);
    for (let rank = 1; rank <= sorted.length; rank++) {
      const percentile = (rank / sorted.length) * 100;
      const truth = sorted[rank - 1]!;
      const got = histogram.valueAtPercentile(percentile);
      expect(Math.abs(got - truth), `rank ${rank} holds ${truth}, the histogram says ${got}`).toBeLessThanOrEqual(
        truth * 1e-3,
      );
    }
  });

  it("counts from the rank, not from floating-point noise: p7 of 1..100 is 7 and p99.9 of 1..1000 is 999", () => {
    const hundred = fill(
      new Histogram({ highestTrackableValue: HOUR_US, significantFigures: 3 }),
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
    expect(
      hundred.valueAtPercentile(7),
      "7 / 100 * 100 is 7.000000000000001 in floating point; the rank is still 7",
    ).toBe(7);
    expect(hundred.valueAtPercentile(14), "14 / 100 * 100 is 14.000000000000002").toBe(14);
    expect(hundred.valueAtPercentile(29), "29 / 100 * 100 is 28.999999999999996, the rank is 29").toBe(29);
    const thousand = fill(
      new Histogram({ highestTrackableValue: HOUR_US, significantFigures: 3 }),
      Array.from({ length: 1000 }, (_, i) => i + 1),
    );
    expect(
      thousand.valueAtPercentile(99.9),
      "99.9 / 100 * 1000 is 999.0000000000001: p99.9 is the 999th value, not the max",
    ).toBe(999);
  });

  it("reports the minimum at p0 and the maximum at p100, and treats anything above 100 as 100", () => {
    const values = [70_001, 5_003, 123_457, 999_999];
    const histogram = fill(new Histogram({ highestTrackableValue: HOUR_US, significantFigures: 2 }), values);
    expect(histogram.valueAtPercentile(0), "p0 is the smallest value recorded").toBe(5_003);
    expect(histogram.valueAtPercentile(100), "p100 is the largest value recorded, not its bucket's upper bound").toBe(
      999_999,
    );
    expect(histogram.valueAtPercentile(150)).toBe(histogram.valueAtPercentile(100));
  });

  it("rejects a negative or NaN percentile with a RangeError", () => {
    const histogram = fill(new Histogram({ highestTrackableValue: HOUR_US, significantFigures: 3 }), [1, 2, 3]);
    expect(() => histogram.valueAtPercentile(-1)).toThrow(RangeError);
    expect(
      () => histogram.valueAtPercentile(Number.NaN),
      "the message names the argument at fault (percentile)",
    ).toThrow(mentions("percentile"));
  });

  it("survives adversarial distributions: one value, all zeros, and a 0.1% tail a billion times the body", () => {
    const cases: Record<string, number[]> = {
      "one value": Array.from({ length: 500 }, () => 123_456_789),
      "all zeros": Array.from({ length: 500 }, () => 0),
      "a huge tail": Array.from({ length: 10_000 }, (_, i) => (i % 1000 === 999 ? 3_000_000_000 + i : 1 + (i % 3))),
      "the top of the range": Array.from({ length: 1_000 }, (_, i) => HOUR_US - i * 7),
    };
    for (const [name, values] of Object.entries(cases)) {
      const histogram = fill(new Histogram({ highestTrackableValue: HOUR_US, significantFigures: 3 }), values);
      expect(histogram.totalCount, name).toBe(values.length);
      expectAccurate(histogram, values, 3, oracle(values, 3));
    }
  });
});

describe("coordinated-omission correction", { timeout: 60_000 }, () => {
  it("adds the values that requests queued behind a slow one would have seen: 1000 at interval 100 also records 900, 800, ... 100", () => {
    const histogram = new Histogram({ highestTrackableValue: HOUR_US, significantFigures: 3 });
    histogram.recordCorrectedValue(1000, 100);
    expect(histogram.totalCount, "one real value and nine synthetic ones").toBe(10);
    expect(histogram.min).toBe(100);
    expect(histogram.max).toBe(1000);
    expect(histogram.mean).toBeCloseTo(550, 9);
    expect(histogram.valueAtPercentile(50)).toBe(500);
  });

  it("stops the synthetic values at the interval: 250 at interval 100 also records 150, and not 50", () => {
    const histogram = new Histogram({ highestTrackableValue: HOUR_US, significantFigures: 3 });
    histogram.recordCorrectedValue(250, 100);
    expect(
      [histogram.totalCount, histogram.min],
      "a request sent 50 µs before the slow one ended waited less than one interval: HdrHistogram records value - k × interval only while it is >= the interval",
    ).toEqual([2, 150]);
  });

  it("records a value at or below the interval once, and an interval of 0 disables the correction", () => {
    const histogram = new Histogram({ highestTrackableValue: HOUR_US, significantFigures: 3 });
    histogram.recordCorrectedValue(100, 100);
    histogram.recordCorrectedValue(40, 100);
    histogram.recordCorrectedValue(5_000, 0);
    expect(histogram.totalCount).toBe(3);
  });

  it("matches hdr-histogram-js recordValueWithExpectedInterval on a seeded series with stalls", () => {
    const random = seededRandom(42);
    const values = Array.from({ length: 2_000 }, () =>
      random() < 0.01 ? 200_000 + Math.floor(random() * 800_000) : 900 + Math.floor(random() * 400),
    );
    const interval = 1_000;
    const histogram = new Histogram({ highestTrackableValue: HOUR_US, significantFigures: 3 });
    const reference = hdr.build({
      numberOfSignificantValueDigits: 3,
      highestTrackableValue: HOUR_US,
      autoResize: false,
      bitBucketSize: 64,
    });
    for (const v of values) {
      histogram.recordCorrectedValue(v, interval);
      reference.recordValueWithExpectedInterval(v, interval);
    }
    expect(histogram.totalCount, "the same synthetic values as the reference implementation").toBe(
      reference.totalCount,
    );
    for (const p of [50, 90, 99, 99.9, 100]) {
      const expected = reference.getValueAtPercentile(p);
      expect(Math.abs(histogram.valueAtPercentile(p) - expected), `p${p}`).toBeLessThanOrEqual(expected * 1e-3);
    }
  });

  it("rejects a fractional interval with a RangeError", () => {
    const histogram = new Histogram({ highestTrackableValue: HOUR_US, significantFigures: 3 });
    expect(() => histogram.recordCorrectedValue(1000, 2.5)).toThrow(RangeError);
    expect(
      () => histogram.recordCorrectedValue(1000, 2.5),
      "the message names the argument at fault (the interval)",
    ).toThrow(mentions("interval"));
    expect(() => histogram.recordCorrectedValue(-5, 10)).toThrow(RangeError);
    expect(histogram.totalCount).toBe(0);
  });
});

describe("merge", { timeout: 60_000 }, () => {
  it("gives the same histogram as recording everything in one", () => {
    const values = logUniform(99, 10_000, 18);
    const whole = fill(new Histogram({ highestTrackableValue: HOUR_US, significantFigures: 3 }), values);
    const left = fill(new Histogram({ highestTrackableValue: HOUR_US, significantFigures: 3 }), values.slice(0, 3_000));
    const right = fill(new Histogram({ highestTrackableValue: HOUR_US, significantFigures: 3 }), values.slice(3_000));
    left.merge(right);
    expect(left.totalCount).toBe(whole.totalCount);
    expect([left.min, left.max]).toEqual([whole.min, whole.max]);
    expect(left.mean, "means combine weighted by count").toBeCloseTo(whole.mean, 3);
    expect(
      left.stdDeviation / whole.stdDeviation,
      "variances combine with the between-group term (Chan et al.)",
    ).toBeCloseTo(1, 9);
    for (const p of PERCENTILES) expect(left.valueAtPercentile(p), `p${p}`).toBe(whole.valueAtPercentile(p));
    expect(right.totalCount, "merge leaves its argument untouched").toBe(7_000);
  });

  it("merges a histogram of another precision within both precisions' error", () => {
    const values = logUniform(5, 5_000, 18);
    const fine = fill(new Histogram({ highestTrackableValue: HOUR_US, significantFigures: 3 }), values.slice(0, 2_500));
    const coarse = fill(
      new Histogram({ highestTrackableValue: HOUR_US * 2, significantFigures: 2 }),
      values.slice(2_500),
    );
    fine.merge(coarse);
    const sorted = [...values].sort((a, b) => a - b);
    expect(fine.totalCount).toBe(5_000);
    expect(fine.max).toBe(sorted.at(-1));
    for (const p of PERCENTILES) {
      const truth = exactPercentile(sorted, p);
      expect(Math.abs(fine.valueAtPercentile(p) - truth), `p${p}`).toBeLessThanOrEqual(truth * (1e-3 + 1e-2));
    }
  });

  it("doubles every count when a histogram is merged into itself", () => {
    const values = [3, 3, 8, 1_000, 20_000];
    const histogram = fill(new Histogram({ highestTrackableValue: HOUR_US, significantFigures: 3 }), values);
    const before = PERCENTILES.map((p) => histogram.valueAtPercentile(p));
    histogram.merge(histogram);
    expect(histogram.totalCount).toBe(10);
    expect(histogram.mean).toBeCloseTo(exactMean(values), 9);
    expect(histogram.stdDeviation).toBeCloseTo(exactStdDeviation(values), 6);
    expect(
      PERCENTILES.map((p) => histogram.valueAtPercentile(p)),
      "the same distribution, twice as many times",
    ).toEqual(before);
  });

  it("refuses, changing nothing, a histogram holding values above its own range", () => {
    const small = fill(new Histogram({ highestTrackableValue: 1_000_000, significantFigures: 3 }), [10, 20]);
    const big = fill(new Histogram({ highestTrackableValue: HOUR_US, significantFigures: 3 }), [5, 2_000_000]);
    expect(() => small.merge(big), "2 000 000 does not fit under a highest trackable value of 1 000 000").toThrow(
      RangeError,
    );
    expect(small.totalCount, "a failed merge must not leave half the values behind").toBe(2);
    expect([small.min, small.max, small.valueAtPercentile(100)]).toEqual([10, 20, 20]);
  });

  it("changes nothing when the other histogram is empty, even when both are", () => {
    const histogram = fill(new Histogram({ highestTrackableValue: HOUR_US, significantFigures: 3 }), [40, 60]);
    histogram.merge(new Histogram({ highestTrackableValue: HOUR_US, significantFigures: 1 }));
    expect([histogram.totalCount, histogram.min, histogram.max, histogram.mean]).toEqual([2, 40, 60, 50]);
    const empty = new Histogram({ highestTrackableValue: HOUR_US, significantFigures: 3 });
    empty.merge(new Histogram({ highestTrackableValue: HOUR_US, significantFigures: 3 }));
    expect(
      [empty.totalCount, empty.min, empty.max, empty.mean, empty.stdDeviation],
      "0 / 0 must not turn into NaN",
    ).toEqual([0, 0, 0, 0, 0]);
  });

  it("keeps the smaller minimum and the larger maximum of the two, whichever side holds them", () => {
    const outer = () => fill(new Histogram({ highestTrackableValue: HOUR_US, significantFigures: 3 }), [5, 9_000]);
    const inner = () => fill(new Histogram({ highestTrackableValue: HOUR_US, significantFigures: 3 }), [50, 600]);
    const a = outer();
    a.merge(inner());
    expect([a.min, a.max]).toEqual([5, 9_000]);
    const b = inner();
    b.merge(outer());
    expect([b.min, b.max]).toEqual([5, 9_000]);
  });

  it("accepts a histogram whose largest value is exactly its own highest trackable value", () => {
    const target = new Histogram({ highestTrackableValue: 1_000_000, significantFigures: 3 });
    const source = fill(new Histogram({ highestTrackableValue: HOUR_US, significantFigures: 3 }), [1_000_000]);
    target.merge(source);
    expect(target.valueAtPercentile(100)).toBe(1_000_000);
  });
});

describe("reset", () => {
  it("forgets every value and statistic, and records afresh", () => {
    const histogram = fill(
      new Histogram({ highestTrackableValue: HOUR_US, significantFigures: 3 }),
      [1, 50_000, 9_000_000],
    );
    histogram.reset();
    expect([histogram.totalCount, histogram.min, histogram.max, histogram.mean, histogram.stdDeviation]).toEqual([
      0, 0, 0, 0, 0,
    ]);
    expect(histogram.valueAtPercentile(100)).toBe(0);
    histogram.recordValue(700);
    histogram.recordValue(900);
    expect([histogram.min, histogram.max], "old extremes must not survive a reset").toEqual([700, 900]);
    expect(histogram.valueAtPercentile(50)).toBe(700);
    expect(histogram.mean).toBe(800);
  });
});
