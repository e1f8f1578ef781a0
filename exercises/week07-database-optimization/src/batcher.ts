// Kata: n-plus-one (2 of 2: the batcher; the repository is src/order-repository.ts)
//
// A GraphQL resolver, or any code that walks a tree of objects, asks for one thing at a time:
// `customer(order)` for each order. A batcher turns those calls into one request: every
// load() made while the current piece of work runs is collected, then the batch function
// gets all the keys at once. This is the contract of the `dataloader` package, which the
// tests use as the oracle: the same loads must give the same batches.
//
// Build Batcher:
// - one batch per "tick": the loads made in the current macrotask and in every promise
//   callback it leads to (however deep the chain of awaits) go into one batch; the batch is
//   sent when those have run, before any timer, I/O callback or setImmediate;
// - each key is requested once: a key loaded twice, in one batch or later, gets the same
//   promise (create one Batcher per request, so nothing is cached for longer);
// - at most maxBatchSize keys per batch (default: no limit; below 1 is a RangeError), in the
//   order they were loaded;
// - the batch function answers an array in key order, one entry per key: an Error entry
//   rejects that key's load only and the others resolve; if the function throws, rejects, or
//   answers an array of the wrong length, every load of that batch rejects and those keys are
//   forgotten, so loading them again asks again.
// Tests: tests/n-plus-one.test.ts (npm run check week7 n-plus-one).
// Keep the exported names and signatures: the tests import them.

import { NotImplementedError } from "#kata";

/** Gets the values of many keys at once: one entry per key, in key order, an Error where it failed. */
export type BatchFunction<K, V> = (keys: readonly K[]) => Promise<readonly (V | Error)[]>;

export interface BatcherOptions {
  /** Most keys per call of the batch function, at least 1 (else a RangeError); default no limit. */
  readonly maxBatchSize?: number;
}

/** Coalesces the loads of one tick into calls of a batch function, one per key. */
export class Batcher<K, V> {
  constructor(
    private readonly batch: BatchFunction<K, V>,
    options: BatcherOptions = {},
  ) {
    // TODO: keep maxBatchSize; set up the cache of promises and the batch being collected.
  }

  /** The value for `key`, fetched together with the other keys loaded in this tick. */
  load(key: K): Promise<V> {
    // TODO: answer the cached promise, or add the key to the current batch (starting one, and
    //       scheduling its dispatch, when there is none or it is full).
    throw new NotImplementedError("n-plus-one");
  }

  /** Values for many keys; an Error in place of each one that failed (never rejects). */
  loadMany(keys: readonly K[]): Promise<(V | Error)[]> {
    // TODO: load each key; turn each rejection into its Error.
    throw new NotImplementedError("n-plus-one");
  }
}
