import { type Clock, systemClock } from "./clock";
import { BulkheadFullError, QueueTimeoutError } from "./errors";
import type { ConcurrencyLimit } from "./limit-types";

export interface BulkheadOptions {
  /** Tasks that may run at once: a fixed number, or a limit that adapts (AimdLimit). */
  readonly maxConcurrent: number | ConcurrencyLimit;
  /** Tasks that may wait for a slot; past that, run() rejects at once (0: no waiting). */
  readonly maxQueue: number;
  /** Longest a task may wait for a slot before it is rejected without running. */
  readonly queueTimeoutMs: number;
  readonly clock?: Clock;
}

export interface RunOptions {
  /** Aborting it while the task waits takes the task out of the queue (rejecting with signal.reason). */
  readonly signal?: AbortSignal;
}

interface Waiter {
  start(): void;
  cancelTimer(): void;
}

class FixedLimit implements ConcurrencyLimit {
  constructor(readonly current: number) {
    if (!Number.isInteger(current) || current < 1) {
      throw new RangeError(`maxConcurrent must be an integer >= 1 (got ${current})`);
    }
  }
  onSample(): void {}
}

/**
 * A bulkhead: at most `limit` tasks run at once, a bounded FIFO queue waits behind them, and
 * a waiting task gives up after queueTimeoutMs. One slow dependency can then hold only its own
 * slots, never every request of the service.
 */
export class Bulkhead {
  readonly #limit: ConcurrencyLimit;
  readonly #maxQueue: number;
  readonly #queueTimeoutMs: number;
  readonly #clock: Clock;
  readonly #queue: Waiter[] = [];
  #active = 0;

  constructor(options: BulkheadOptions) {
    const limit = options.maxConcurrent;
    this.#limit = typeof limit === "number" ? new FixedLimit(limit) : limit;
    if (!Number.isInteger(options.maxQueue) || options.maxQueue < 0) {
      throw new RangeError(`maxQueue must be an integer >= 0 (got ${options.maxQueue})`);
    }
    if (!(options.queueTimeoutMs > 0)) {
      throw new RangeError(`queueTimeoutMs must be positive (got ${options.queueTimeoutMs})`);
    }
    this.#maxQueue = options.maxQueue;
    this.#queueTimeoutMs = options.queueTimeoutMs;
    this.#clock = options.clock ?? systemClock;
  }

  /** Tasks running now. */
  get active(): number {
    return this.#active;
  }

  /** Tasks waiting for a slot. */
  get queued(): number {
    return this.#queue.length;
  }

  /** The concurrency limit in force now. */
  get limit(): number {
    return this.#limit.current;
  }

  /** Runs `task` when a slot is free; rejects with BulkheadFullError or QueueTimeoutError when it cannot. */
  run<T>(task: () => Promise<T>, options: RunOptions = {}): Promise<T> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#active < this.#limit.current && this.#queue.length === 0) return this.#start(task);
    if (this.#queue.length >= this.#maxQueue) return Promise.reject(new BulkheadFullError());

    return new Promise<T>((resolve, reject) => {
      const enqueuedAt = this.#clock.now();
      const leave = () => {
        const index = this.#queue.indexOf(waiter);
        if (index >= 0) this.#queue.splice(index, 1);
        cancel();
        signal?.removeEventListener("abort", onAbort);
      };
      const onAbort = () => {
        leave();
        reject(signal!.reason);
      };
      const cancel = this.#clock.setTimer(this.#queueTimeoutMs, () => {
        leave();
        reject(new QueueTimeoutError(this.#clock.now() - enqueuedAt));
      });
      const waiter: Waiter = {
        cancelTimer: () => {
          cancel();
          signal?.removeEventListener("abort", onAbort);
        },
        start: () => {
          this.#start(task).then(resolve, reject);
        },
      };
      signal?.addEventListener("abort", onAbort);
      this.#queue.push(waiter);
    });
  }

  async #start<T>(task: () => Promise<T>): Promise<T> {
    this.#active++;
    const startedAt = this.#clock.now();
    let failed = true;
    try {
      const value = await task();
      failed = false;
      return value;
    } finally {
      this.#active--;
      this.#limit.onSample({ latencyMs: this.#clock.now() - startedAt, failed });
      this.#drain();
    }
  }

  /** Starts waiting tasks, oldest first, while the (possibly just changed) limit allows. */
  #drain(): void {
    while (this.#queue.length > 0 && this.#active < this.#limit.current) {
      const next = this.#queue.shift()!;
      next.cancelTimer();
      next.start();
    }
  }
}
