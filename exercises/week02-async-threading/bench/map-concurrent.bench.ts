// mapConcurrent against p-limit on 10 000 trivial tasks: with no real work in the tasks,
// what is left is each library's own bookkeeping per task (promises, queue, slot refill).
// Run with `npm run bench week2`; the reference should be within the same order as p-limit.
import pLimit from "p-limit";
import { bench, describe } from "vitest";
import { mapConcurrent } from "../src/map-concurrent";

const items = Array.from({ length: 10_000 }, (_, index) => index);
const trivial = async (value: number) => value * 2;

describe("10 000 trivial async tasks, 16 at a time", () => {
  bench("mapConcurrent(items, 16, fn)", async () => {
    await mapConcurrent(items, 16, trivial);
  });

  bench("p-limit: Promise.all(items.map(x => limit(fn, x)))", async () => {
    const limit = pLimit(16);
    await Promise.all(items.map((item) => limit(trivial, item)));
  });

  bench("p-limit: limit.map(items, fn)", async () => {
    await pLimit(16).map(items, trivial);
  });
});

describe("10 000 trivial async tasks from a generator, 16 at a time", () => {
  function* source() {
    for (let index = 0; index < 10_000; index++) yield index;
  }

  bench("mapConcurrent(generator, 16, fn): lazy pull", async () => {
    await mapConcurrent(source(), 16, trivial);
  });

  bench("p-limit: limit.map(generator, fn): reads it all up front", async () => {
    await pLimit(16).map(source(), trivial);
  });
});
