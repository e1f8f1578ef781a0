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

function requireLimit(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer >= ${min} (got ${value})`);
  }
}

/**
 * Additive increase, multiplicative decrease, as TCP does for its congestion window: +1 after
 * `current` good samples in a row (about +1 per round of tasks), ×backoffRatio on a sample that
 * was slow or failed. It finds the concurrency a dependency sustains without being told.
 */
export class AimdLimit implements ConcurrencyLimit {
  readonly #min: number;
  readonly #max: number;
  readonly #threshold: number;
  readonly #backoff: number;
  #current: number;
  #good = 0;

  constructor(options: AimdLimitOptions) {
    this.#min = options.min ?? 1;
    this.#max = options.max;
    requireLimit("min", this.#min, 1);
    requireLimit("max", this.#max, this.#min);
    requireLimit("initial", options.initial, this.#min);
    if (options.initial > this.#max) throw new RangeError(`initial must be at most max (got ${options.initial})`);
    this.#backoff = options.backoffRatio ?? 0.5;
    if (!(this.#backoff > 0 && this.#backoff < 1)) {
      throw new RangeError(`backoffRatio must be in (0, 1) (got ${this.#backoff})`);
    }
    if (!(options.latencyThresholdMs > 0)) {
      throw new RangeError(`latencyThresholdMs must be positive (got ${options.latencyThresholdMs})`);
    }
    this.#threshold = options.latencyThresholdMs;
    this.#current = options.initial;
  }

  get current(): number {
    return this.#current;
  }

  onSample(sample: LatencySample): void {
    if (sample.failed || sample.latencyMs > this.#threshold) {
      this.#current = Math.max(this.#min, Math.floor(this.#current * this.#backoff));
      this.#good = 0;
      return;
    }
    if (++this.#good >= this.#current) {
      this.#current = Math.min(this.#max, this.#current + 1);
      this.#good = 0;
    }
  }
}
