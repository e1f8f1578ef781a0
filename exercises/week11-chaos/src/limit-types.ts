/** What a bulkhead learns from every task it ran. */
export interface LatencySample {
  /** How long the task ran (its time in the queue not included). */
  readonly latencyMs: number;
  /** True when the task rejected. */
  readonly failed: boolean;
}

/**
 * A concurrency limit the bulkhead reads before it starts each task: a fixed number, or one
 * that adapts to the samples it is fed (AimdLimit).
 */
export interface ConcurrencyLimit {
  /** Tasks that may run at once, now. Always a whole number >= 1. */
  readonly current: number;
  onSample(sample: LatencySample): void;
}
