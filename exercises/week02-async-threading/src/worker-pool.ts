// Kata: worker-pool (week 2, Async & Threading), with src/hash-worker.ts.
//
// Hashing, compressing or resizing a big buffer on the main thread freezes every other
// request for as long as it takes: the event loop does one thing at a time. A pool of
// worker_threads moves that CPU work to other cores while the main thread keeps serving.
// Build the pool (this file) and the worker entry file it runs (src/hash-worker.ts).
//
// Main thread, `WorkerPool`:
// - `new WorkerPool({ filename, size, maxQueue, execArgv })`: at most `size` threads, each
//   `new Worker(filename, { execArgv, resourceLimits, workerData })` (the tests pass an
//   execArgv that loads TypeScript). `size` is an integer >= 1 (default: one thread per
//   core, minus one for the main thread, at least 1); `maxQueue` an integer >= 0, or
//   Infinity for no bound (default: 16 jobs per thread, size × 16). Anything else is a
//   RangeError. Threads may start lazily, on the first jobs.
// - `run(task, { transfer })`: one job per thread at a time; when all are busy the job waits
//   in a FIFO queue of at most `maxQueue` jobs, and beyond that `run` rejects at once with
//   QueueFullError. Buffers in `transfer` change owner when `run` returns, even for a job
//   that waits in the queue (structuredClone(value, { transfer }) moves without copying).
// - A job whose handler throws rejects with an Error of the same name, message and `code`
//   (structured clone drops `code` and custom names: send errors as plain data). A thread
//   that dies (process.exit, an uncaught exception, out of memory) rejects the job it was
//   running with WorkerCrashedError (exitCode, and the exception as `cause`), and a
//   replacement thread starts at once. Other jobs are not affected. Worker events: an
//   uncaught exception emits 'error' and then 'exit'; process.exit() in the thread emits
//   only 'exit'; so settle the job on 'exit', with the 'error' (if any) as the cause.
//   A thread that died before serving any job (an entry file that fails to load) is not
//   restarted on its own, or a broken file becomes a crash loop: the next job starts a
//   thread again. Jobs already queued are not left waiting: each one that comes up starts
//   a thread of its own (and, with a broken file, fails the same way).
// - `close()` drains: running and queued jobs finish, new `run` calls reject with
//   PoolClosedError, then every thread exits before the promise resolves. `close({ force:
//   true })` rejects unfinished jobs with PoolClosedError and terminates threads mid-job.
//   Calling close() again returns the same promise.
//
// Worker thread, `serveTasks(handler)`: called once by the worker's entry file; for every
// job message, run the handler and post back its result (moving the buffers of a returned
// `Transfer`) or its error. Both ends of your message protocol live in this file.
//
// Tests: tests/worker-pool.test.ts (run `npm run check week2 worker-pool`).
// Keep the exported names and signatures: the tests import them.
import type { ResourceLimits, TransferListItem } from "node:worker_threads";
import { NotImplementedError } from "#kata";

/** `run` found every thread busy and the queue full: shed the load or retry later. */
export class QueueFullError extends Error {
  readonly code = "ERR_POOL_QUEUE_FULL";

  constructor(readonly maxQueue: number) {
    super(`the worker pool's queue is full (${maxQueue} jobs waiting)`);
    this.name = "QueueFullError";
  }
}

/** The pool was closed: no new jobs, and with `force` the unfinished ones are abandoned. */
export class PoolClosedError extends Error {
  readonly code = "ERR_POOL_CLOSED";

  constructor(message = "the worker pool is closed") {
    super(message);
    this.name = "PoolClosedError";
  }
}

/** The thread running a job died (uncaught exception, process.exit, out of memory). */
export class WorkerCrashedError extends Error {
  readonly code = "ERR_WORKER_CRASHED";

  constructor(
    readonly exitCode: number,
    cause: unknown,
  ) {
    super(`the worker thread running this job died (exit code ${exitCode})`, { cause });
    this.name = "WorkerCrashedError";
  }
}

/** A task handler's result plus the buffers to move (not copy) back to the main thread. */
export class Transfer<R> {
  constructor(
    readonly value: R,
    readonly list: readonly TransferListItem[],
  ) {}
}

export interface WorkerPoolOptions {
  /** The worker's entry file: a module that calls `serveTasks(handler)`. */
  filename: string | URL;
  /** Threads in the pool, an integer >= 1 (default: one per core, minus one for the main thread, at least 1). */
  size?: number;
  /** Jobs that may wait for a free thread before `run` rejects with QueueFullError: an integer >= 0 or Infinity (default: 16 per thread). */
  maxQueue?: number;
  /** Node options for each thread, such as a TypeScript loader. */
  execArgv?: string[];
  /** Heap limits per thread, so a runaway job kills its thread instead of the process. */
  resourceLimits?: ResourceLimits;
  /** Passed to every thread as `workerData`. */
  workerData?: unknown;
}

export interface RunOptions {
  /** Buffers (ArrayBuffer, MessagePort) to move to the worker; the caller's copies are detached. */
  transfer?: readonly TransferListItem[];
}

/**
 * Runs tasks on a fixed set of worker threads: one job per thread, a bounded FIFO queue,
 * crashed threads replaced, and a `close()` that leaves no thread behind.
 */
export class WorkerPool<Task, Result> {
  readonly size: number;
  readonly maxQueue: number;
  // TODO: the threads (Worker, the job it runs, a way to await its exit), the queue of
  //       jobs (task, transfer list, resolve, reject), and the closing state.

  constructor(options: WorkerPoolOptions) {
    // TODO: validate size and maxQueue and apply their defaults (see WorkerPoolOptions);
    //       keep the options for spawning threads.
    void options;
    this.size = 0;
    this.maxQueue = 0;
    throw new NotImplementedError("worker-pool");
  }

  /** Threads alive now (started lazily, up to `size`). */
  get threadCount(): number {
    // TODO
    throw new NotImplementedError("worker-pool");
  }

  /** Threads running a job now. */
  get busyCount(): number {
    // TODO
    throw new NotImplementedError("worker-pool");
  }

  /** Jobs waiting for a free thread. */
  get queueSize(): number {
    // TODO
    throw new NotImplementedError("worker-pool");
  }

  /** Runs `task` on a free thread, or queues it; buffers in `transfer` change owner at once. */
  run(task: Task, options: RunOptions = {}): Promise<Result> {
    // TODO: closed? an idle thread (or room to start one)? room in the queue? else QueueFullError.
    // TODO: a thread's "message" settles its job and takes the next queued one; its "error"
    //       and "exit" events mean a crash: reject its job and start a replacement.
    void task;
    void options;
    throw new NotImplementedError("worker-pool");
  }

  /** Drains (or with `force`, abandons) the jobs, then resolves once every thread has exited. */
  close(options: { force?: boolean } = {}): Promise<void> {
    // TODO
    void options;
    throw new NotImplementedError("worker-pool");
  }
}

/** The handler a worker file serves; it may return a `Transfer` to move buffers back. */
export type TaskHandler<T, R> = (task: T) => R | Transfer<R> | PromiseLike<R | Transfer<R>>;

/**
 * The worker side of the pool: call it once at the top level of the worker's entry file.
 * Every job runs `handler`; its result (or error) goes back to the job's caller.
 */
export function serveTasks<T, R>(handler: TaskHandler<T, R>): void {
  // TODO: parentPort.on("message", ...): run the handler, post back { id, ok, value } with
  //       the Transfer's list, or { id, ok: false, error } as plain data.
  void handler;
  throw new NotImplementedError("worker-pool");
}
