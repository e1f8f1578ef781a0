// Kata: bulkhead-and-shedding (the adaptive limit)
//
// A fixed limit is a guess, and the right number changes with the dependency's health. An
// adaptive limit finds it the way TCP finds a congestion window: additive increase,
// multiplicative decrease (AIMD).
// - A sample that took at most latencyThresholdMs and did not fail is good. After `current`
//   good samples in a row, current grows by 1 (never above max).
// - A sample slower than latencyThresholdMs, or a failed one, is a sign of overload: current
//   becomes Math.floor(current × backoffRatio), never below min, and the run of good samples
//   starts again from zero.
// - initial, min, max must be whole numbers with 1 <= min <= initial <= max; backoffRatio in
//   (0, 1), default 0.5; latencyThresholdMs > 0. Otherwise RangeError.
//
// Tests: tests/bulkhead.test.ts (npm run check week11 bulkhead-and-shedding).
// Keep the exported names and signatures: the tests import them.

import { NotImplementedError } from "#kata";
import type { ConcurrencyLimit, LatencySample } from "./limit-types";

export type { ConcurrencyLimit, LatencySample } from "./limit-types";

export interface AimdLimitOptions {
  /** The limit to start from. */
  readonly initial: number;
  /** Never below this (default 1). */
  readonly min?: number;
  /** Never above this. */
  readonly max: number;
  /** A sample slower than this (or a failure) is a sign of overload. */
  readonly latencyThresholdMs: number;
  /** The multiplicative decrease, in (0, 1) (default 0.5). */
  readonly backoffRatio?: number;
}

/** Additive increase, multiplicative decrease of a concurrency limit. */
export class AimdLimit implements ConcurrencyLimit {
  constructor(options: AimdLimitOptions) {
    // TODO: validate and keep the options; start at `initial`.
    throw new NotImplementedError("bulkhead-and-shedding");
  }

  get current(): number {
    // TODO
    throw new NotImplementedError("bulkhead-and-shedding");
  }

  onSample(sample: LatencySample): void {
    // TODO: grow by 1 after `current` good samples in a row; shrink by backoffRatio on a bad one.
    throw new NotImplementedError("bulkhead-and-shedding");
  }
}
