// The reference Histogram against hdr-histogram-js (its pure-JS build, 3 significant figures,
// one hour in microseconds): recording a latency is on every response's path, so it must cost
// about what the library a professional would pick costs. Run with `npm run bench week4`.
import { benchCase } from "#fixtures/bench";
import * as hdr from "hdr-histogram-js";
import { Histogram } from "../src/histogram";

const HOUR_US = 3_600_000_000;
let seed = 7;
const latencies = Array.from({ length: 100_000 }, () => {
  seed = (seed * 16807) % 2147483647;
  return Math.floor(Math.exp((seed / 2147483647) * 16)); // 1 us to about 9 s
});

const ours = () => new Histogram({ highestTrackableValue: HOUR_US, significantFigures: 3 });
const theirs = () =>
  hdr.build({ highestTrackableValue: HOUR_US, numberOfSignificantValueDigits: 3, autoResize: false });

// One operation: a fresh histogram and 100 000 recorded latencies (the allocation is part of
// a load test's cost too, and the same for both).
benchCase("histogram, record 100k latencies", {
  ours: () => {
    const histogram = ours();
    for (const value of latencies) histogram.recordValue(value);
  },
  yardstick: {
    library: "hdr-histogram-js (JS build)",
    run: () => {
      const histogram = theirs();
      for (const value of latencies) histogram.recordValue(value);
    },
  },
});

{
  const mine = ours();
  const hdrs = theirs();
  for (const value of latencies) {
    mine.recordValue(value);
    hdrs.recordValue(value);
  }
  benchCase("histogram, p50/p90/p99/p99.9 of 100k latencies", {
    ours: () => {
      for (const p of [50, 90, 99, 99.9]) mine.valueAtPercentile(p);
    },
    yardstick: {
      library: "hdr-histogram-js (JS build)",
      run: () => {
        for (const p of [50, 90, 99, 99.9]) hdrs.getValueAtPercentile(p);
      },
    },
  });
}
