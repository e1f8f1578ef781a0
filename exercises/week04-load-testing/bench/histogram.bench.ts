// The reference Histogram against hdr-histogram-js (its pure-JS build, 3 significant figures,
// one hour in microseconds): recording a latency is on every response's path, so it must cost
// about what the library a professional would pick costs. Run with `npm run bench week4`.
import * as hdr from "hdr-histogram-js";
import { bench, describe } from "vitest";
import { Histogram } from "../src/histogram";

const HOUR_US = 3_600_000_000;
let seed = 7;
const latencies = Array.from({ length: 100_000 }, () => {
  seed = (seed * 16807) % 2147483647;
  return Math.floor(Math.exp((seed / 2147483647) * 16)); // 1 us to about 9 s
});

describe("recording 100 000 latencies", () => {
  bench("Histogram.recordValue (reference)", () => {
    const histogram = new Histogram({ highestTrackableValue: HOUR_US, significantFigures: 3 });
    for (const value of latencies) histogram.recordValue(value);
  });

  bench("hdr-histogram-js recordValue", () => {
    const histogram = hdr.build({ highestTrackableValue: HOUR_US, numberOfSignificantValueDigits: 3, autoResize: false });
    for (const value of latencies) histogram.recordValue(value);
  });
});

describe("p50, p90, p99, p99.9 of 100 000 latencies", () => {
  const mine = new Histogram({ highestTrackableValue: HOUR_US, significantFigures: 3 });
  const theirs = hdr.build({ highestTrackableValue: HOUR_US, numberOfSignificantValueDigits: 3, autoResize: false });
  for (const value of latencies) {
    mine.recordValue(value);
    theirs.recordValue(value);
  }

  bench("Histogram.valueAtPercentile (reference)", () => {
    for (const p of [50, 90, 99, 99.9]) mine.valueAtPercentile(p);
  });

  bench("hdr-histogram-js getValueAtPercentile", () => {
    for (const p of [50, 90, 99, 99.9]) theirs.getValueAtPercentile(p);
  });
});
