import DataLoader from "dataloader";
import { describe, expect, it } from "vitest";
import { Batcher, type BatchFunction } from "../src/batcher";

// Every load pattern runs twice, on the kata's Batcher and on DataLoader (the oracle), with the
// same batch function: the batches it was called with, and what each load answered, must match.

interface Loader {
  load(key: number): Promise<string>;
  loadMany(keys: readonly number[]): Promise<(string | Error)[]>;
}
type LoaderFactory = (batch: BatchFunction<number, string>, maxBatchSize?: number) => Loader;

const ours: LoaderFactory = (batch, maxBatchSize) =>
  new Batcher<number, string>(batch, maxBatchSize === undefined ? {} : { maxBatchSize });
const oracle: LoaderFactory = (batch, maxBatchSize) =>
  new DataLoader<number, string>((keys) => batch(keys), maxBatchSize === undefined ? {} : { maxBatchSize });

type Outcome = { value: string } | { error: string };
const settleOne = (promise: Promise<string>): Promise<Outcome> =>
  promise.then(
    (value) => ({ value }),
    (error: Error) => ({ error: error.message }),
  );
const settle = (promises: readonly Promise<string>[]): Promise<Outcome[]> => Promise.all(promises.map(settleOne));

interface Scenario {
  maxBatchSize?: number;
  /** What the batch function answers for its n-th call (0-based); default a value per key. */
  answer?: (keys: readonly number[], call: number) => Promise<readonly (string | Error)[]>;
  /** The loads, answering what each one settled to. */
  loads(loader: Loader): Promise<unknown>;
}

async function run(factory: LoaderFactory, scenario: Scenario) {
  const batches: number[][] = [];
  const answer = scenario.answer ?? (async (keys) => keys.map((k) => `value ${k}`));
  const loader = factory(async (keys) => {
    batches.push([...keys]);
    return answer(keys, batches.length - 1);
  }, scenario.maxBatchSize);
  const outcomes = await scenario.loads(loader);
  return { batches, outcomes };
}

/** Runs the scenario on both and checks the kata's batches and outcomes against DataLoader's. */
async function sameAsDataLoader(scenario: Scenario, why: string): Promise<{ batches: number[][] }> {
  const expected = await run(oracle, scenario);
  const actual = await run(ours, scenario);
  expect(
    actual.batches,
    `${why}; DataLoader called the batch function with ${JSON.stringify(expected.batches)}`,
  ).toEqual(expected.batches);
  expect(actual.outcomes, "each load answers what DataLoader's answers").toEqual(expected.outcomes);
  return expected;
}

const nextMacrotask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

describe("collects the loads of one tick into one batch", () => {
  it("sends loads made in one synchronous run as one batch, each key once, in first-load order", async () => {
    const { batches } = await sameAsDataLoader(
      { loads: (loader) => settle([3, 1, 3, 2, 1].map((k) => loader.load(k))) },
      "a key loaded twice in a tick is asked for once, and the keys keep the order of their first load",
    );
    expect(batches).toEqual([[3, 1, 2]]);
  });

  it("waits for promise chains of any depth before sending, so loads after several awaits join the batch", async () => {
    const deep = async (loader: Loader, key: number, awaits: number) => {
      for (let i = 0; i < awaits; i++) await Promise.resolve();
      return loader.load(key);
    };
    const { batches } = await sameAsDataLoader(
      { loads: (loader) => settle([deep(loader, 1, 0), deep(loader, 2, 3), deep(loader, 3, 8)]) },
      "a batch sent from a queueMicrotask leaves behind the loads that come a few awaits later: " +
        "schedule the dispatch after all promise jobs",
    );
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it("sends one batch per macrotask: loads from two timer callbacks are two batches", async () => {
    const { batches } = await sameAsDataLoader(
      {
        loads: (loader) =>
          new Promise<Outcome[]>((resolve) => {
            const loads: Promise<Outcome>[] = [];
            const fire = (key: number) =>
              setTimeout(() => {
                try {
                  loads.push(settleOne(loader.load(key)));
                } catch (error) {
                  loads.push(Promise.resolve({ error: (error as Error).message }));
                }
                if (loads.length === 2) resolve(Promise.all(loads));
              }, 0);
            fire(1);
            fire(2);
          }),
      },
      "a batch sent from setImmediate or setTimeout waits too long: " +
        "it merges the work of separate callbacks and delays every load",
    );
    expect(batches).toEqual([[1], [2]]);
  });

  it("loads the next level of a resolver tree in a second batch, once the first has answered", async () => {
    await sameAsDataLoader(
      {
        loads: (loader) =>
          settle(
            [1, 2, 3].map(async (key) => {
              const parent = await loader.load(key);
              const child = await loader.load(key * 10);
              return `${parent} > ${child}`;
            }),
          ),
      },
      "each level of the tree is one batch",
    );
  });
});

describe("answers each key once, and caps the batch size", () => {
  it("answers a key loaded again later from its first load, without asking again", async () => {
    const { batches } = await sameAsDataLoader(
      {
        loads: async (loader) => {
          const first = await loader.load(1);
          await nextMacrotask();
          return [first, ...(await settle([loader.load(1), loader.load(2)]))];
        },
      },
      "within one batcher's life a key is fetched once",
    );
    expect(batches).toEqual([[1], [2]]);
  });

  it("refuses a maxBatchSize below 1 with RangeError", () => {
    const batch = async (keys: readonly number[]) => keys.map(String);
    for (const maxBatchSize of [0, -1, Number.NaN]) {
      expect(() => new Batcher(batch, { maxBatchSize }), `maxBatchSize ${maxBatchSize}`).toThrow(RangeError);
    }
    expect(() => new Batcher(batch, { maxBatchSize: 1 })).not.toThrow();
  });

  it("splits the keys of one tick into batches of at most maxBatchSize, in load order", async () => {
    const { batches } = await sameAsDataLoader(
      { maxBatchSize: 3, loads: (loader) => settle([1, 2, 3, 4, 5, 6, 7, 8].map((k) => loader.load(k))) },
      "an IN list (or ANY array) of unbounded size is a query of unbounded cost",
    );
    expect(batches).toEqual([
      [1, 2, 3],
      [4, 5, 6],
      [7, 8],
    ]);
  });
});

describe("keeps failures where they belong", () => {
  it("rejects only the load whose entry is an Error, and keeps answering that key with it", async () => {
    const answer = async (keys: readonly number[]) =>
      keys.map((k) => (k === 2 ? new Error("no customer 2") : `value ${k}`));
    const { batches } = await sameAsDataLoader(
      {
        answer,
        loads: async (loader) => {
          const first = await settle([1, 2, 3].map((k) => loader.load(k)));
          return [...first, ...(await settle([loader.load(2)]))];
        },
      },
      "one missing row must not fail the other keys of its batch (Promise.all over the batch does)",
    );
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it("rejects every load of a batch whose function rejects, and asks for those keys again later", async () => {
    const answer = async (keys: readonly number[], call: number) => {
      if (call === 0) throw new Error("database unavailable");
      return keys.map((k) => `value ${k}`);
    };
    const { batches } = await sameAsDataLoader(
      {
        answer,
        loads: async (loader) => {
          const failed = await settle([1, 2].map((k) => loader.load(k)));
          return [...failed, ...(await settle([loader.load(1)]))];
        },
      },
      "a failed call says nothing about the keys: they must not stay cached as failures",
    );
    expect(batches).toEqual([[1, 2], [1]]);
  });

  it("rejects every load of a batch whose function answers the wrong number of values", async () => {
    const answer = async () => ["only one value"];
    const scenario: Scenario = { answer, loads: (loader) => settle([1, 2].map((k) => loader.load(k))) };
    const theirs = (await run(oracle, scenario)).outcomes as Outcome[];
    const mine = (await run(ours, scenario)).outcomes as Outcome[];
    expect(theirs.every((o) => "error" in o)).toBe(true);
    expect(
      mine.map((o) => ("error" in o ? "rejected" : o.value)),
      "answers are matched to keys by position: with a value missing, none of them can be trusted",
    ).toEqual(["rejected", "rejected"]);
  });

  it("loadMany answers an Error in place of each failed key and never rejects", async () => {
    const answer = async (keys: readonly number[]) =>
      keys.map((k) => (k % 2 === 0 ? new Error(`no ${k}`) : `value ${k}`));
    const scenario: Scenario = {
      answer,
      loads: async (loader) =>
        (await loader.loadMany([1, 2, 3, 4])).map((v) => (v instanceof Error ? { error: v.message } : { value: v })),
    };
    const { batches } = await sameAsDataLoader(scenario, "loadMany is load for each key, in one batch");
    expect(batches).toEqual([[1, 2, 3, 4]]);
  });
});
