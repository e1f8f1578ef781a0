/*
 * Kata stampede-protection, part 2: probabilistic early refresh (XFetch).
 *
 * A lock makes the other readers wait. XFetch (Vattani, Chierichetti and Lowenstein,
 * "Optimal Probabilistic Cache Stampede Prevention", VLDB 2015) avoids the wait: each reader
 * of a still-fresh entry decides on its own, at random, to recompute it a little before it
 * expires, with a probability that grows as expiry nears and with the cost of the recompute.
 * One reader refreshes, the others keep getting the cached value, and the entry almost never
 * expires under load.
 *
 * - `shouldRecomputeEarly`: true when now − delta × beta × ln(random()) >= expiresAt.
 * - `XFetchCache.get(key, loader)`: store the value together with delta (how long the loader
 *   took, measured on the injected clock) and the absolute expiry (clock time + ttl), in one
 *   Redis string with PX ttl, so that a hit is one GET. An entry at or past its expiry on the
 *   clock is a miss, and so is an entry it cannot read. Report where each value came from:
 *   "hit", "early-refresh" or "miss". A `ttl` that is not a positive integer, or a `beta`
 *   that is not a finite number >= 0 (negative, NaN, Infinity), is a RangeError.
 *
 * The tests (tests/stampede-protection.test.ts) use a manual clock and a seeded random
 * source. Keep the exported names and signatures: the tests import them.
 */
import { NotImplementedError } from "#kata";
import type { Redis } from "ioredis";
import type { Clock } from "./clock";

/** What the XFetch decision looks at. */
export interface EarlyRecomputeInput {
  /** The current time, on the same clock as `expiresAt`. */
  now: number;
  /** When the cached value expires. */
  expiresAt: number;
  /** How long the last recompute took, in ms. */
  delta: number;
  /** How eager to be: 1 is the paper's optimum; above 1 refreshes earlier, 0 never early. */
  beta: number;
  /** A uniform source in [0, 1). */
  random: () => number;
}

/** XFetch: whether this reader should recompute now, before the entry expires. */
export function shouldRecomputeEarly(input: EarlyRecomputeInput): boolean {
  // TODO
  void input;
  throw new NotImplementedError("stampede-protection");
}

/** How an XFetch cache times its values and makes its decisions. */
export interface XFetchOptions {
  redis: Redis;
  /** Time to live of a value, in ms (a positive integer). */
  ttl: number;
  /** Default 1. */
  beta?: number;
  /** Must agree across instances, since expiries are stored in Redis: default `wallClock` from ./clock. */
  clock?: Clock;
  /** Default Math.random. */
  random?: () => number;
}

/** Where a value came from: a plain hit, a hit recomputed early, or a miss. */
export type XFetchSource = "hit" | "early-refresh" | "miss";

export interface XFetchResult<T> {
  value: T;
  source: XFetchSource;
}

/** A read-through cache that refreshes entries before they expire, at random. */
export class XFetchCache {
  constructor(options: XFetchOptions) {
    // TODO
    void options;
    throw new NotImplementedError("stampede-protection");
  }

  /** The value of `key`: cached, recomputed early by this caller, or loaded on a miss. */
  async get<T>(key: string, loader: () => Promise<T>): Promise<XFetchResult<T>> {
    // TODO: one GET; decide; recompute (measuring delta on the clock) and SET with PX.
    void key;
    void loader;
    throw new NotImplementedError("stampede-protection");
  }
}
