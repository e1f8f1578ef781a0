// Reference solution for the `n-plus-one` kata, the batcher: DataLoader's contract (batch per
// tick, a promise per key, positional results, per-key errors) in a small class.

/** Gets the values of many keys at once: one entry per key, in key order, an Error where it failed. */
export type BatchFunction<K, V> = (keys: readonly K[]) => Promise<readonly (V | Error)[]>;

export interface BatcherOptions {
  /** Most keys per call of the batch function, at least 1 (else a RangeError); default no limit. */
  readonly maxBatchSize?: number;
}

interface Pending<V> {
  resolve(value: V): void;
  reject(error: unknown): void;
}

interface Batch<K, V> {
  readonly keys: K[];
  readonly waiting: Pending<V>[];
  sent: boolean;
}

const resolved = Promise.resolve();

/**
 * Runs `dispatch` once the current macrotask and every promise job it leads to have run. A
 * microtask alone would fire before promise chains queued after it (a load after two awaits
 * would miss the batch); a promise job that queues a nextTick runs after the whole microtask
 * queue has drained, and still before timers, I/O callbacks and setImmediate.
 */
function afterPromiseJobs(dispatch: () => void): void {
  void resolved.then(() => process.nextTick(dispatch));
}

/** Coalesces the loads of one tick into calls of a batch function, one per key. */
export class Batcher<K, V> {
  readonly #maxBatchSize: number;
  // One promise per key for the batcher's life: a second load of a key shares the first's.
  readonly #cache = new Map<K, Promise<V>>();
  #current: Batch<K, V> | undefined;

  constructor(
    private readonly batch: BatchFunction<K, V>,
    options: BatcherOptions = {},
  ) {
    const max = options.maxBatchSize ?? Number.POSITIVE_INFINITY;
    if (!(max >= 1)) throw new RangeError("maxBatchSize must be at least 1");
    this.#maxBatchSize = max;
  }

  /** The value for `key`, fetched together with the other keys loaded in this tick. */
  load(key: K): Promise<V> {
    const cached = this.#cache.get(key);
    if (cached) return cached;
    const batch = this.#collecting();
    const promise = new Promise<V>((resolve, reject) => {
      batch.keys.push(key);
      batch.waiting.push({ resolve, reject });
    });
    this.#cache.set(key, promise);
    return promise;
  }

  /** Values for many keys; an Error in place of each one that failed (never rejects). */
  loadMany(keys: readonly K[]): Promise<(V | Error)[]> {
    return Promise.all(
      keys.map((key) =>
        this.load(key).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))),
      ),
    );
  }

  /** The batch that takes the next key: the current one, or a new one scheduled for this tick. */
  #collecting(): Batch<K, V> {
    const current = this.#current;
    if (current && !current.sent && current.keys.length < this.#maxBatchSize) return current;
    const fresh: Batch<K, V> = { keys: [], waiting: [], sent: false };
    this.#current = fresh;
    afterPromiseJobs(() => void this.#dispatch(fresh));
    return fresh;
  }

  async #dispatch(batch: Batch<K, V>): Promise<void> {
    batch.sent = true;
    let values: readonly (V | Error)[];
    try {
      values = await this.batch(batch.keys);
      if (!Array.isArray(values) || values.length !== batch.keys.length) {
        throw new TypeError(
          `the batch function answered ${Array.isArray(values) ? values.length : "no array of"} values ` +
            `for ${batch.keys.length} keys`,
        );
      }
    } catch (error) {
      // The whole call failed (the database was down, the function is broken): nothing is
      // known about any key, so none stays cached and a later load asks again.
      for (const key of batch.keys) this.#cache.delete(key);
      for (const pending of batch.waiting) pending.reject(error);
      return;
    }
    batch.waiting.forEach((pending, i) => {
      const value = values[i]!;
      if (value instanceof Error) pending.reject(value);
      else pending.resolve(value);
    });
  }
}
