// Reference solution for the worker-pool kata: a fixed-size pool of worker_threads with a
// bounded queue, zero-copy transfers, crash isolation and a clean shutdown. Both ends of the
// pool's message protocol live in this module (WorkerPool on the main thread, serveTasks in
// the worker) so they cannot drift apart.
import { availableParallelism } from "node:os";
import { parentPort, type ResourceLimits, type TransferListItem, Worker } from "node:worker_threads";

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

/** structuredClone's transfer list type (its `Transferable` is not exported by @types/node). */
type CloneTransferList = NonNullable<NonNullable<Parameters<typeof structuredClone>[1]>["transfer"]>;

interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: string | number;
}

interface JobMessage {
  id: number;
  task: unknown;
}

type ReplyMessage = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: SerializedError };

interface Job {
  id: number;
  task: unknown;
  transfer: readonly TransferListItem[];
  resolve(value: unknown): void;
  reject(reason: unknown): void;
}

interface Thread {
  worker: Worker;
  job: Job | undefined;
  served: number;
  lastError: unknown;
  exited: Promise<void>;
}

const BUILTIN_ERRORS: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

// Structured clone keeps an Error's class only for built-ins and drops `code` and custom
// names, so errors cross the thread boundary as plain data and are rebuilt here.
function deserializeError(data: SerializedError): Error {
  const Ctor = BUILTIN_ERRORS[data.name] ?? Error;
  const error = new Ctor(data.message);
  if (error.name !== data.name) error.name = data.name;
  if (data.stack !== undefined) error.stack = data.stack;
  if (data.code !== undefined) Object.assign(error, { code: data.code });
  return error;
}

/**
 * Runs tasks on a fixed set of worker threads. One job per thread at a time (the work is
 * CPU-bound, so more would only time-slice), a FIFO queue with a hard bound, a crashed
 * thread's job rejected and the thread replaced, and `close()` that leaves no thread behind.
 */
export class WorkerPool<Task, Result> {
  readonly size: number;
  readonly maxQueue: number;
  readonly #options: WorkerPoolOptions;
  readonly #threads = new Set<Thread>();
  #queue: Job[] = [];
  #nextId = 1;
  #closed = false;
  #forced = false;
  #closing: Promise<void> | undefined;
  #onDrained: (() => void) | undefined;

  constructor(options: WorkerPoolOptions) {
    const size = options.size ?? Math.max(1, availableParallelism() - 1);
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`size must be an integer >= 1, got ${size}`);
    const maxQueue = options.maxQueue ?? size * 16;
    if (!(Number.isInteger(maxQueue) || maxQueue === Number.POSITIVE_INFINITY) || maxQueue < 0) {
      throw new RangeError(`maxQueue must be an integer >= 0, got ${maxQueue}`);
    }
    this.size = size;
    this.maxQueue = maxQueue;
    this.#options = options;
  }

  /** Threads alive now (started lazily, up to `size`). */
  get threadCount(): number {
    return this.#threads.size;
  }

  /** Threads running a job now. */
  get busyCount(): number {
    let busy = 0;
    for (const thread of this.#threads) if (thread.job) busy++;
    return busy;
  }

  /** Jobs waiting for a free thread. */
  get queueSize(): number {
    return this.#queue.length;
  }

  /**
   * Runs `task` on a free thread, or queues it. Buffers in `transfer` change owner at once:
   * the caller's copies are detached when `run` returns, even if the job waits in the queue.
   */
  run(task: Task, options: RunOptions = {}): Promise<Result> {
    if (this.#closed) return Promise.reject(new PoolClosedError());
    return new Promise<Result>((resolve, reject) => {
      const job: Job = {
        id: this.#nextId++,
        task,
        transfer: options.transfer ?? [],
        resolve: resolve as (value: unknown) => void,
        reject,
      };
      const thread = this.#idleThread() ?? this.#spawnIfRoom();
      if (thread) return this.#assign(thread, job);
      if (this.#queue.length >= this.maxQueue) return reject(new QueueFullError(this.maxQueue));
      if (job.transfer.length > 0) {
        // Take ownership now: until dispatch the caller could otherwise still write into
        // a buffer it believes it handed over. A structured clone with the same transfer
        // list moves the buffers without copying their bytes.
        try {
          const moved = structuredClone(
            { task: job.task, list: job.transfer },
            { transfer: [...job.transfer] as CloneTransferList },
          );
          job.task = moved.task;
          job.transfer = moved.list;
        } catch (error) {
          return reject(error);
        }
      }
      this.#queue.push(job);
    });
  }

  /**
   * Stops the pool. By default it drains: queued and running jobs finish, then the threads
   * exit. With `force`, unfinished jobs reject with PoolClosedError and threads are
   * terminated mid-job. Resolves once every thread has exited; calling it again returns
   * the same promise.
   */
  close(options: { force?: boolean } = {}): Promise<void> {
    if (this.#closing && !(options.force && !this.#forced)) return this.#closing;
    this.#closed = true;
    if (options.force) {
      this.#forced = true;
      const abandoned = new PoolClosedError("the worker pool was closed before this job finished");
      for (const job of this.#queue.splice(0)) job.reject(abandoned);
      for (const thread of this.#threads) {
        const job = thread.job;
        thread.job = undefined;
        job?.reject(abandoned);
      }
      this.#onDrained?.();
    }
    const closing = (async () => {
      if (!this.#forced) await this.#drained();
      // Terminate until no thread is left: a crash during the drain may have spawned one.
      while (this.#threads.size > 0) {
        const threads = [...this.#threads];
        await Promise.all(threads.map((t) => t.worker.terminate().then(() => t.exited)));
      }
    })();
    this.#closing = closing;
    return closing;
  }

  #drained(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => {
      this.#onDrained = resolve;
    });
  }

  #isIdle(): boolean {
    return this.#queue.length === 0 && this.busyCount === 0;
  }

  #checkDrained(): void {
    if (this.#onDrained && this.#isIdle()) {
      const done = this.#onDrained;
      this.#onDrained = undefined;
      done();
    }
  }

  #idleThread(): Thread | undefined {
    for (const thread of this.#threads) if (!thread.job) return thread;
    return undefined;
  }

  #spawnIfRoom(): Thread | undefined {
    if (this.#threads.size >= this.size || this.#forced) return undefined;
    return this.#spawn();
  }

  #spawn(): Thread {
    const { filename, execArgv, resourceLimits, workerData } = this.#options;
    const worker = new Worker(filename, { execArgv, resourceLimits, workerData });
    let markExited!: () => void;
    const thread: Thread = {
      worker,
      job: undefined,
      served: 0,
      lastError: undefined,
      exited: new Promise<void>((resolve) => (markExited = resolve)),
    };
    worker.on("message", (reply: ReplyMessage) => this.#onReply(thread, reply));
    // A reply that cannot be deserialized fails its job; the thread itself is fine.
    worker.on("messageerror", (error) => this.#finish(thread, (job) => job.reject(error)));
    // An uncaught exception in the thread: 'exit' follows and reports it with the job.
    worker.on("error", (error) => (thread.lastError = error));
    worker.on("exit", (code) => {
      this.#onExit(thread, code);
      markExited();
    });
    worker.unref(); // idle threads must not keep the process alive; busy ones are ref'd
    this.#threads.add(thread);
    return thread;
  }

  #assign(thread: Thread, job: Job): void {
    thread.job = job;
    thread.worker.ref();
    try {
      const message: JobMessage = { id: job.id, task: job.task };
      thread.worker.postMessage(message, job.transfer);
    } catch (error) {
      // DataCloneError and friends: the job never left this thread.
      this.#finish(thread, (j) => j.reject(error));
    }
  }

  #onReply(thread: Thread, reply: ReplyMessage): void {
    if (!thread.job || thread.job.id !== reply.id) return; // a reply to a job already abandoned by close({ force })
    thread.served++;
    this.#finish(thread, (job) => (reply.ok ? job.resolve(reply.value) : job.reject(deserializeError(reply.error))));
  }

  #finish(thread: Thread, settle: (job: Job) => void): void {
    const job = thread.job;
    thread.job = undefined;
    thread.worker.unref();
    if (job) settle(job);
    this.#dispatch();
    this.#checkDrained();
  }

  #onExit(thread: Thread, exitCode: number): void {
    this.#threads.delete(thread);
    const job = thread.job;
    thread.job = undefined;
    job?.reject(new WorkerCrashedError(exitCode, thread.lastError));
    // Replace a thread that had been doing its job, so capacity survives one poisoned task.
    // A thread that died before serving anything (a broken entry file) is replaced only
    // when work is waiting, so a bad file cannot become a tight crash-respawn loop.
    if (!this.#forced && !this.#closing && thread.served > 0 && this.#threads.size < this.size) this.#spawn();
    this.#dispatch();
    this.#checkDrained();
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      const thread = this.#idleThread() ?? this.#spawnIfRoom();
      if (!thread) return;
      this.#assign(thread, this.#queue.shift()!);
    }
  }
}

// The worker side of the protocol, from here to the end of the file.
// Stryker disable all: it runs only inside worker threads, where Stryker can neither switch
// mutants on nor see coverage; the worker-pool tests exercise it through real threads.

function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      name: error.name,
      message: error.message,
      stack: error.stack,
      ...(typeof code === "string" || typeof code === "number" ? { code } : {}),
    };
  }
  return { name: "Error", message: String(error) };
}

/** The handler a worker file serves; it may return a `Transfer` to move buffers back. */
export type TaskHandler<T, R> = (task: T) => R | Transfer<R> | PromiseLike<R | Transfer<R>>;

/**
 * The worker side of the pool: call it once at the top level of the worker's entry file.
 * Every job runs `handler`; its result (or error) goes back to the job's caller.
 */
export function serveTasks<T, R>(handler: TaskHandler<T, R>): void {
  const port = parentPort;
  if (!port) throw new Error("serveTasks() must run inside a worker thread (load this file through a WorkerPool)");

  port.on("message", async ({ id, task }: JobMessage) => {
    try {
      const outcome = await handler(task as T);
      if (outcome instanceof Transfer) port.postMessage({ id, ok: true, value: outcome.value }, outcome.list);
      else port.postMessage({ id, ok: true, value: outcome });
    } catch (error) {
      // Also reached when the result cannot be cloned (DataCloneError): the caller learns why.
      const reply: ReplyMessage = { id, ok: false, error: serializeError(error) };
      port.postMessage(reply);
    }
  });
}
