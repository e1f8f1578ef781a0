// mapConcurrent against p-limit on 10 000 trivial tasks: with no real work in the tasks,
// what is left is each library's own bookkeeping per task (promises, queue, slot refill).
// Run with `npm run bench week2`; the target is at least p-limit's maps per second
// (ratio >= 1), from an array with either of p-limit's two styles and from a generator.
import { benchCase } from "#fixtures/bench";
import pLimit from "p-limit";
import { mapConcurrent } from "../src/map-concurrent";

const TASKS = 10_000;
const LIMIT = 16;
const items = Array.from({ length: TASKS }, (_, index) => index);
const trivial = async (value: number) => value * 2;

benchCase("mapConcurrent, 10k trivial tasks, 16 at a time", {
  ours: () => mapConcurrent(items, LIMIT, trivial),
  yardstick: {
    library: "p-limit: Promise.all(items.map(x => limit(fn, x)))",
    run: () => {
      const limit = pLimit(LIMIT);
      return Promise.all(items.map((item) => limit(trivial, item)));
    },
  },
});

benchCase("mapConcurrent, 10k trivial tasks, 16 at a time (limit.map)", {
  ours: () => mapConcurrent(items, LIMIT, trivial),
  yardstick: { library: "p-limit: limit.map(items, fn)", run: () => pLimit(LIMIT).map(items, trivial) },
});

// From a generator: mapConcurrent pulls lazily (an item only when a slot is free), while
// p-limit's map reads the whole source up front.
function* source() {
  for (let index = 0; index < TASKS; index++) yield index;
}

benchCase("mapConcurrent, 10k trivial tasks from a generator, 16 at a time", {
  ours: () => mapConcurrent(source(), LIMIT, trivial),
  yardstick: {
    library: "p-limit: limit.map(generator, fn), reads it all up front",
    run: () => pLimit(LIMIT).map(source(), trivial),
  },
});
