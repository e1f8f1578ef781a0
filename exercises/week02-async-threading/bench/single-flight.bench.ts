// What SingleFlight.run costs on top of the call it wraps: a Map lookup, a Map insert and
// one extra promise reaction per execution. Run with `npm run bench week2`.
import { bench, describe } from "vitest";
import { SingleFlight } from "../src/single-flight";

const load = async (key: number) => key;

describe("one call, no contention", () => {
  const group = new SingleFlight<number, number>();

  bench("bare call", async () => {
    await load(1);
  });

  bench("through SingleFlight.run", async () => {
    await group.run(1, () => load(1));
  });
});

describe("100 concurrent callers of one key", () => {
  const group = new SingleFlight<number, number>();

  bench("100 bare calls", async () => {
    const calls: Promise<number>[] = [];
    for (let caller = 0; caller < 100; caller++) calls.push(load(1));
    await Promise.all(calls);
  });

  bench("100 callers coalesced into one execution", async () => {
    const calls: Promise<number>[] = [];
    for (let caller = 0; caller < 100; caller++) calls.push(group.run(1, () => load(1)));
    await Promise.all(calls);
  });
});
