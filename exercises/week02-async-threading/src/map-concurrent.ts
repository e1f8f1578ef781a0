// Kata: map-concurrent (week 2, Async & Threading).
//
// A batch job has 50 000 image URLs to resize, a crawler has a queue of pages, a migration
// walks every row of a table. Promise.all(items.map(fn)) starts all of them at once and
// knocks over whatever sits behind fn; a for-await loop does one at a time and takes all
// night. Build `mapConcurrent`: at most `limit` calls in flight, results in input order.
//
// - `items` may be an array, any iterable (a generator) or an async iterable (a database
//   cursor). Read the next item only when a slot is free, one next() at a time, and close
//   the source (iterator.return(), if it has one) if you stop before it is done. A source
//   that throws fails the map with its own error; it is finished, so don't close it. A
//   next() that gives something other than an object ({ done, value }) is a broken source
//   too: fail with a TypeError, as for-of and for await do, never hang or throw elsewhere.
// - mode "fail-fast" (default): reject with the first error, start nothing new, and abort
//   the signal handed to the calls still running. mode "settled": finish every item and
//   resolve to Promise.allSettled-style outcomes.
// - options.signal: aborting stops starting new work and rejects with `signal.reason`;
//   an already-aborted signal rejects before anything is read. An item the source
//   delivers after the map has stopped is dropped, not started.
// - No unhandled rejections, whatever the calls do after the map has settled. Reject a
//   `limit` that is not an integer >= 1 (Infinity is allowed) with a RangeError, and an
//   unknown mode with a TypeError.
//
// Tests: tests/map-concurrent.test.ts (run `npm run check week2 map-concurrent`).
// Keep the exported names and signatures: the tests import them.
import { NotImplementedError } from "#kata";

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
  // TODO: validate `limit` and reject at once if `options.signal` is already aborted.
  // TODO: get an iterator (Symbol.asyncIterator first, then Symbol.iterator) and pull one
  //       item per free slot; start `fn(item, index, signal)` for each and store its result
  //       at `index`; when a call settles, pull again; resolve when the source is done and
  //       nothing is in flight.
  // TODO: on the first error (fail-fast) or on abort: settle once, abort the calls' signal,
  //       close the source, remove your abort listener, and ignore what arrives later.
  void items;
  void limit;
  void fn;
  void options;
  throw new NotImplementedError("map-concurrent");
}
