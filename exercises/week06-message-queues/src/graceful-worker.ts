// Kata `graceful-worker`, part 1: a BullMQ worker that can be stopped without losing or
// doubling work.
//
// A deploy sends SIGTERM to the old worker process and, some seconds later, SIGKILL. Build
// `startGracefulWorker` so that `shutdown(deadlineMs)`:
// - stops taking new jobs at once;
// - lets the active jobs finish, but waits at most `deadlineMs` (worker.close() alone would
//   wait forever for a job that hangs);
// - at the deadline, aborts the active jobs' AbortSignals, reports their ids as abandoned, and
//   lets go of them: as long as this worker renews their locks no other worker can have them,
//   so the renewals must stop (their locks expire, and another worker recovers them as
//   stalled jobs), even while a processor that ignores its signal is still running;
// - closes the Redis connection it was given, and answers the same report when called twice.
// worker-main.ts (part 2) turns this into a process that reacts to signals.
// Tests: tests/graceful-worker.test.ts (`npm run check week6 graceful-worker`).
// Keep the exported names and signatures: the tests import them.

import type { Processor, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { NotImplementedError } from "#kata";

export interface GracefulWorkerOptions<Data = unknown, Result = unknown> {
  readonly queueName: string;
  /**
   * The worker's Redis connection (maxRetriesPerRequest: null). The graceful worker owns it:
   * shutdown closes it, because worker.close() never closes a connection passed in.
   */
  readonly connection: Redis;
  readonly prefix: string;
  readonly processor: Processor<Data, Result>;
  readonly concurrency?: number;
  /** How long a job's lock lives without renewal; a dead worker's jobs stall after this. Default 30 s. */
  readonly lockDurationMs?: number;
  /** How often stalled jobs are looked for. Default 30 s. */
  readonly stalledIntervalMs?: number;
  /** Where the lifecycle lines go (`draining`, `job <id> completed`, ...). Defaults to nowhere. */
  readonly log?: (line: string) => void;
}

export interface ShutdownReport {
  /** True when every active job finished before the deadline. */
  readonly drained: boolean;
  /** Ids of the jobs still running at the deadline; their locks expire and another worker recovers them. */
  readonly abandoned: readonly string[];
}

export interface GracefulWorker {
  readonly worker: Worker;
  /** Resolves once the worker's connections are ready. */
  ready(): Promise<void>;
  /**
   * Stops taking jobs at once, waits up to `deadlineMs` for the active ones, then closes the
   * connection. Calling it again returns the same promise. A deadline that is not a finite
   * number >= 0 rejects with RangeError and changes nothing: a later, valid call still works.
   */
  shutdown(deadlineMs: number): Promise<ShutdownReport>;
}

/** Starts a worker whose shutdown is bounded in time. */
export function startGracefulWorker<Data, Result>(options: GracefulWorkerOptions<Data, Result>): GracefulWorker {
  // TODO: a Worker with the given lock and stall settings whose processor wraps options.processor,
  //       tracks the ids of running jobs, and passes the AbortSignal on (declare all three parameters).
  // TODO: an 'error' listener (an unhandled 'error' event would crash the process).
  // TODO: shutdown: call worker.close(), log "draining", race it against a deadline timer; then
  //       close the connection and report, or cancel the jobs, drop the connection and report them.
  throw new NotImplementedError("graceful-worker");
}
