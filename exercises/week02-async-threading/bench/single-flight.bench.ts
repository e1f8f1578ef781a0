// What SingleFlight.run costs on top of the call it wraps: a Map lookup, a Map insert and
// one extra promise reaction per execution. Run with `npm run bench week2`. The yardstick is
// the floor, the same call made bare, not a library: with one caller the ratio is the
// overhead itself (below 1 by construction, the closer to 1 the better); with 100 callers
// of one key, coalescing does one execution where the bare calls do 100.
import { benchCase } from "#fixtures/bench";
import { SingleFlight } from "../src/single-flight";

const load = async (key: number) => key;
const CALLERS = 100;

{
  const group = new SingleFlight<number, number>();
  benchCase("SingleFlight.run, one call, no contention", {
    ours: () => group.run(1, () => load(1)),
    yardstick: { library: "bare call (the floor)", run: () => load(1) },
  });
}

{
  const group = new SingleFlight<number, number>();
  benchCase("SingleFlight.run, 100 concurrent callers of one key", {
    ours: () => {
      const calls: Promise<number>[] = [];
      for (let caller = 0; caller < CALLERS; caller++) calls.push(group.run(1, () => load(1)));
      return Promise.all(calls);
    },
    yardstick: {
      library: "100 bare calls",
      run: () => {
        const calls: Promise<number>[] = [];
        for (let caller = 0; caller < CALLERS; caller++) calls.push(load(1));
        return Promise.all(calls);
      },
    },
  });
}
