// The batcher against DataLoader, the library a professional would use: the same load
// patterns, a fresh loader per iteration (one per request, as both are meant to be used) and
// a batch function that answers at once, so the bench measures the batching machinery itself.
// Target: at least DataLoader's operations per second.
import DataLoader from "dataloader";
import { bench, describe } from "vitest";
import { Batcher } from "../src/batcher";

const answer = async (keys: readonly number[]) => keys.map((k) => k * 2);
// A resolver tree's typical load pattern: many loads, many of them repeats.
const keys = Array.from({ length: 1_000 }, (_, i) => (i * 37) % 250);

describe("1 000 loads of 250 distinct keys in one tick", () => {
  bench("ours: Batcher", async () => {
    const loader = new Batcher<number, number>(answer);
    await Promise.all(keys.map((k) => loader.load(k)));
  });

  bench("yardstick dataloader: DataLoader", async () => {
    const loader = new DataLoader<number, number>(answer);
    await Promise.all(keys.map((k) => loader.load(k)));
  });
});

describe("1 000 loads of 250 distinct keys, batches of at most 50", () => {
  bench("ours: Batcher", async () => {
    const loader = new Batcher<number, number>(answer, { maxBatchSize: 50 });
    await Promise.all(keys.map((k) => loader.load(k)));
  });

  bench("yardstick dataloader: DataLoader", async () => {
    const loader = new DataLoader<number, number>(answer, { maxBatchSize: 50 });
    await Promise.all(keys.map((k) => loader.load(k)));
  });
});

describe("a two-level resolver tree: 100 parents, then their 100 children", () => {
  const tree = async (loader: { load(key: number): Promise<number> }) =>
    Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const parent = await loader.load(i);
        return loader.load(1_000 + (parent % 100));
      }),
    );

  bench("ours: Batcher", async () => {
    await tree(new Batcher<number, number>(answer));
  });

  bench("yardstick dataloader: DataLoader", async () => {
    await tree(new DataLoader<number, number>(answer));
  });
});
