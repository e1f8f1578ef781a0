// Kata: bulkhead-and-shedding
//
// Ships have bulkheads so that one flooded compartment does not sink the whole hull. A
// service has them so that one slow dependency cannot hold every request: each dependency
// gets a fixed number of slots, a short line in front of them, and a limit on how long
// anyone waits in that line. Past that, the answer is "no, come back later", at once.
//
// Build Bulkhead, with time and timers only from the injected clock:
// - run(task) starts the task when fewer than the limit run (maxConcurrent: a number, or a
//   ConcurrencyLimit such as AimdLimit, read anew every time a task could start); otherwise
//   it waits in a FIFO queue of at most maxQueue tasks. With the queue full, run() rejects
//   at once with BulkheadFullError and the task never runs.
// - A task waiting queueTimeoutMs rejects with QueueTimeoutError, leaves the queue and never
//   runs. One that gets its slot in time has its queue timer cancelled.
// - A finished task (resolved, rejected, or thrown synchronously) frees its slot and is fed to
//   the limit as a LatencySample (its run time, not counting the queue; failed or not).
// - run(task, { signal }): aborting the signal while the task waits takes it out of the queue
//   and rejects with signal.reason.
// - maxConcurrent < 1, maxQueue < 0 or queueTimeoutMs <= 0: RangeError.
//
// Tests: tests/bulkhead.test.ts, tests/load-shedding.test.ts (npm run check week11
// bulkhead-and-shedding). This kata also has src/adaptive-limit.ts and src/load-shedding.ts.
// Keep the exported names and signatures: the tests import them.

import { NotImplementedError } from "#kata";
import { type Clock, systemClock } from "./clock";
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

/** At most `limit` tasks at once, a bounded FIFO queue behind them, a timeout on the wait. */
export class Bulkhead {
  readonly #clock: Clock;

  constructor(options: BulkheadOptions) {
    this.#clock = options.clock ?? systemClock;
    // TODO: validate (RangeError); wrap a plain number in a fixed ConcurrencyLimit.
    throw new NotImplementedError("bulkhead-and-shedding");
  }

  /** Tasks running now. */
  get active(): number {
    // TODO
    throw new NotImplementedError("bulkhead-and-shedding");
  }

  /** Tasks waiting for a slot. */
  get queued(): number {
    // TODO
    throw new NotImplementedError("bulkhead-and-shedding");
  }

  /** The concurrency limit in force now. */
  get limit(): number {
    // TODO
    throw new NotImplementedError("bulkhead-and-shedding");
  }

  /** Runs `task` when a slot is free; rejects with BulkheadFullError or QueueTimeoutError when it cannot. */
  run<T>(task: () => Promise<T>, options: RunOptions = {}): Promise<T> {
    // TODO: start now, queue (with a this.#clock.setTimer queue timeout and the abort signal),
    // or reject with BulkheadFullError. When a task settles: free the slot, feed the limit a
    // sample, and start the oldest waiters while the limit allows.
    throw new NotImplementedError("bulkhead-and-shedding");
  }
}
