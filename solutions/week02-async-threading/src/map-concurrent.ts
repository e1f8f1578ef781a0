// Reference solution for the map-concurrent kata: a bounded-concurrency map over sync and
// async iterables, with fail-fast and settled modes and cancellation through AbortSignal.

export type MapMode = "fail-fast" | "settled";

/** What `fn` receives besides the item: its index and a signal that aborts when the map stops early. */
export type Mapper<T, R> = (item: T, index: number, signal: AbortSignal) => R | PromiseLike<R>;

export interface MapConcurrentOptions {
  /** Aborting stops starting new work and rejects the map with `signal.reason`. */
  signal?: AbortSignal;
  /** `fail-fast` (default) rejects on the first error; `settled` returns every outcome. */
  mode?: MapMode;
}

/**
 * Maps `items` through `fn` with at most `limit` calls in flight, keeping input order.
 * The source is pulled only when a slot is free, so an endless or expensive iterable is safe.
 */
export function mapConcurrent<T, R>(
  items: Iterable<T> | AsyncIterable<T>,
  limit: number,
  fn: Mapper<T, R>,
  options?: MapConcurrentOptions & { mode?: "fail-fast" },
): Promise<R[]>;
export function mapConcurrent<T, R>(
  items: Iterable<T> | AsyncIterable<T>,
  limit: number,
  fn: Mapper<T, R>,
  options: MapConcurrentOptions & { mode: "settled" },
): Promise<PromiseSettledResult<Awaited<R>>[]>;
export function mapConcurrent<T, R>(
  items: Iterable<T> | AsyncIterable<T>,
  limit: number,
  fn: Mapper<T, R>,
  options: MapConcurrentOptions = {},
): Promise<R[] | PromiseSettledResult<Awaited<R>>[]> {
  const { signal, mode = "fail-fast" } = options;
  // Validation and an already-aborted signal reject (never throw synchronously): callers
  // of a promise-returning function handle one failure channel, not two.
  if (!(Number.isInteger(limit) || limit === Number.POSITIVE_INFINITY) || limit < 1) {
    return Promise.reject(new RangeError(`limit must be an integer >= 1 or Infinity, got ${limit}`));
  }
  if (mode !== "fail-fast" && mode !== "settled") {
    return Promise.reject(new TypeError(`mode must be "fail-fast" or "settled", got ${String(mode)}`));
  }
  if (signal?.aborted) return Promise.reject(signal.reason);

  let iterator: Iterator<T> | AsyncIterator<T>;
  let isAsync: boolean;
  try {
    const asyncFactory = (items as Partial<AsyncIterable<T>>)[Symbol.asyncIterator];
    isAsync = typeof asyncFactory === "function";
    iterator = isAsync
      ? (items as AsyncIterable<T>)[Symbol.asyncIterator]()
      : (items as Iterable<T>)[Symbol.iterator]();
  } catch (error) {
    return Promise.reject(
      error instanceof TypeError ? error : new TypeError("items must be iterable or async iterable"),
    );
  }

  return new Promise((resolve, reject) => {
    // Aborted when the map stops early (first error, caller's abort), so running calls can
    // stop too instead of burning work nobody will read.
    const stop = new AbortController();
    const results: unknown[] = [];
    let active = 0;
    let nextIndex = 0;
    let exhausted = false; // the source said done, or threw (then it must not be closed again)
    let finished = false;
    let pulling = false;

    const cleanup = () => {
      finished = true;
      signal?.removeEventListener("abort", onAbort);
    };

    const fail = (reason: unknown) => {
      if (finished) return;
      cleanup();
      stop.abort(reason);
      if (!exhausted) closeSource();
      reject(reason);
    };

    const closeSource = () => {
      // return() lets a generator run its finally blocks (close files, release cursors).
      // Its own failure must not surface as an unhandled rejection.
      try {
        const closing = iterator.return?.();
        if (closing && typeof (closing as PromiseLike<unknown>).then === "function") {
          Promise.resolve(closing).catch(() => {});
        }
      } catch {
        // The map has already failed with a better reason; a faulty return() adds nothing.
      }
    };

    const onAbort = () => fail(signal!.reason);
    signal?.addEventListener("abort", onAbort, { once: true });

    const settleIfDone = () => {
      if (!finished && exhausted && active === 0) {
        cleanup();
        resolve(results as R[]);
      }
    };

    const start = (item: T, index: number) => {
      active++;
      let outcome: PromiseLike<R> | R;
      try {
        outcome = fn(item, index, stop.signal);
      } catch (error) {
        outcome = Promise.reject(error);
      }
      // Both handlers are attached at once, so a rejection that arrives after the map has
      // already failed is still handled: no unhandled rejections, ever.
      Promise.resolve(outcome).then(
        (value) => {
          active--;
          if (finished) return;
          results[index] = mode === "settled" ? { status: "fulfilled", value } : value;
          void pump();
        },
        (reason: unknown) => {
          active--;
          if (finished) return;
          if (mode === "fail-fast") return fail(reason);
          results[index] = { status: "rejected", reason };
          void pump();
        },
      );
    };

    // Pulls one item per free slot. Only one pull runs at a time: an async iterator is not
    // required to support concurrent next() calls, and reading ahead would defeat the limit.
    const pump = async () => {
      if (pulling) return;
      pulling = true;
      try {
        while (!finished && !exhausted && active < limit) {
          let done: boolean | undefined;
          let value: T;
          try {
            const step: unknown = isAsync
              ? await (iterator as AsyncIterator<T>).next()
              : (iterator as Iterator<T>).next();
            // What for-of and for-await do with a broken iterator: a result that is not an
            // object is a TypeError of the source's own making (so it is not closed either).
            // Reading done and value stays inside the try: a throwing getter is the source's fault too.
            if (typeof step !== "object" || step === null)
              throw new TypeError(`iterator result ${String(step)} is not an object`);
            ({ done, value } = step as IteratorResult<T>);
          } catch (error) {
            exhausted = true;
            return fail(error);
          }
          if (finished) return; // stopped while we awaited the source; the item is dropped
          if (done) {
            exhausted = true;
            break;
          }
          start(value, nextIndex++);
        }
        settleIfDone();
      } finally {
        pulling = false;
      }
    };

    void pump();
  });
}
