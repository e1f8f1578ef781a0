// Reference solution for the `graceful-worker` kata, part 1: a BullMQ worker with a shutdown
// that drains within a deadline.

import { Worker, type Job, type Processor } from "bullmq";
import type { Redis } from "ioredis";

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
   * connection. Calling it again returns the same promise.
   */
  shutdown(deadlineMs: number): Promise<ShutdownReport>;
}

/** QUIT, then wait for the socket to be gone: only then can the process end by itself. */
async function closeConnection(connection: Redis): Promise<void> {
  if (connection.status === "end") return;
  const ended = new Promise<void>((resolve) => connection.once("end", () => resolve()));
  await connection.quit().catch(() => connection.disconnect());
  await ended;
}

/** Starts a worker whose shutdown is bounded in time. */
export function startGracefulWorker<Data, Result>(options: GracefulWorkerOptions<Data, Result>): GracefulWorker {
  const { queueName, connection, prefix, processor } = options;
  const log = options.log ?? (() => {});
  const running = new Set<string>();

  const worker = new Worker<Data, Result>(
    queueName,
    // Three declared parameters: BullMQ creates a job's AbortController only for a processor
    // whose length is 3 or more, and cancelAllJobs() can only reach jobs that have one.
    async (job: Job<Data, Result>, token?: string, signal?: AbortSignal) => {
      const id = job.id!;
      running.add(id);
      try {
        return await processor(job, token, signal);
      } finally {
        running.delete(id);
      }
    },
    {
      connection,
      prefix,
      concurrency: options.concurrency ?? 1,
      lockDuration: options.lockDurationMs ?? 30_000,
      stalledInterval: options.stalledIntervalMs ?? 30_000,
    },
  );
  worker.on("completed", (job) => log(`job ${job.id} completed`));
  worker.on("failed", (job, error) => log(`job ${job?.id ?? "?"} failed: ${error.message}`));
  // Without a listener, an 'error' event (a dropped connection) would crash the process.
  worker.on("error", (error) => log(`worker error: ${error.message}`));

  async function drain(deadlineMs: number): Promise<ShutdownReport> {
    // close() stops fetching before its first await and resolves when the active jobs are
    // done; it has no deadline of its own, hence the race below.
    const closed = worker.close().then(
      () => true,
      () => true,
    );
    log("draining");
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), deadlineMs);
    });
    const drained = await Promise.race([closed, deadline]);
    clearTimeout(timer);

    if (drained) {
      await closeConnection(connection);
      return { drained: true, abandoned: [] };
    }
    const abandoned = [...running];
    // Cooperative processors stop on their signal; the others are left to the stall checker.
    worker.cancelAllJobs("shutdown deadline exceeded");
    // Dropping the connection stops the lock renewals, so the jobs' locks run out and another
    // worker's stalled check moves them back to wait (at-least-once: the handler must be idempotent).
    connection.disconnect();
    return { drained: false, abandoned };
  }

  let shuttingDown: Promise<ShutdownReport> | undefined;
  return {
    worker,
    ready: () => worker.waitUntilReady(),
    shutdown(deadlineMs) {
      // Checked before the promise is cached: a bad argument must not poison later calls.
      if (!(Number.isFinite(deadlineMs) && deadlineMs >= 0)) {
        return Promise.reject(new RangeError(`deadlineMs must be a finite number >= 0, got ${deadlineMs}`));
      }
      return (shuttingDown ??= drain(deadlineMs));
    },
  };
}
