// The batcher against DataLoader, the library a professional would use: the same load
// patterns, a fresh loader per operation (one per request, as both are meant to be used) and
// a batch function that answers at once, so the bench measures the batching machinery itself.
// Target: at least DataLoader's operations per second (ratio >= 1).
import { benchCase } from "#fixtures/bench";
import DataLoader from "dataloader";
import { Batcher } from "../src/batcher";

const answer = async (keys: readonly number[]) => keys.map((k) => k * 2);
// A resolver tree's typical load pattern: many loads, many of them repeats.
const keys = Array.from({ length: 1_000 }, (_, i) => (i * 37) % 250);

interface Loader {
  load(key: number): Promise<number>;
}

const flat = (loader: Loader) => Promise.all(keys.map((k) => loader.load(k)));

benchCase("batcher, 1 000 loads of 250 distinct keys in one tick", {
  ours: () => flat(new Batcher<number, number>(answer)),
  yardstick: { library: "dataloader", run: () => flat(new DataLoader<number, number>(answer)) },
});

benchCase("batcher, 1 000 loads of 250 distinct keys, batches of at most 50", {
  ours: () => flat(new Batcher<number, number>(answer, { maxBatchSize: 50 })),
  yardstick: { library: "dataloader", run: () => flat(new DataLoader<number, number>(answer, { maxBatchSize: 50 })) },
});

// A two-level resolver tree: 100 parents, then their 100 children.
const tree = (loader: Loader) =>
  Promise.all(
    Array.from({ length: 100 }, async (_, i) => {
      const parent = await loader.load(i);
      return loader.load(1_000 + (parent % 100));
    }),
  );

benchCase("batcher, a two-level resolver tree: 100 parents, then their 100 children", {
  ours: () => tree(new Batcher<number, number>(answer)),
  yardstick: { library: "dataloader", run: () => tree(new DataLoader<number, number>(answer)) },
});
