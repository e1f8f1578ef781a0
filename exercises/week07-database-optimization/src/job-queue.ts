// Kata: skip-locked-queue
//
// A job queue in the database you already run: no broker, jobs enqueued in the same
// transaction as the data they are about, and effects that commit together with the job's
// completion. The whole trick is one clause. Workers claim the next job with
// SELECT ... FOR UPDATE SKIP LOCKED: a row another worker has locked is skipped instead of
// waited for, so N workers take N different jobs at once, and a job is locked, and so
// invisible to the others, for exactly as long as its worker's transaction lives.
//
// Build JobQueue over src/jobs-schema.ts:
// - enqueue(payload, { priority }) inserts a queued job (priority default 0) and answers its id;
// - processNext(handler): in one transaction, claim the next queued job (highest priority,
//   then oldest, then lowest id), skipping locked ones; run handler(job, tx) on that same
//   transaction (its writes commit with the job, or not at all); mark the job done; COMMIT.
//   It answers null when no job can be claimed now, and never waits for another worker's job.
//   Every path ends its transaction and hands the connection back, the null one included.
// - a handler that throws: its writes are undone (a savepoint), the attempt is recorded
//   (attempts + 1, last_error), and the job stays queued for another try, or becomes 'failed'
//   when that was its maxAttempts-th attempt; processNext answers { status: "retry" | "failed" }.
// - a worker that dies holding a job (its connection killed, pg_terminate_backend) releases
//   it: the transaction rolls back and the job is claimable again. A job held longer than
//   visibilityTimeoutMs by a worker that is not using the database (a hung handler, a stuck
//   process) must become claimable again too: Postgres can enforce that for you
//   (idle_in_transaction_session_timeout, settable for one transaction with SET LOCAL).
//   When processNext held a job but could not commit its outcome, it rejects with JobLostError;
//   an error before any job was claimed is rethrown as it is.
//   A checked-out pg client whose connection dies emits 'error': without a listener that
//   event crashes the process.
// - the claim is served by jobs_claim_idx: no Seq Scan, no Sort (the tests EXPLAIN every
//   statement you send, with 20 000 finished jobs in the table).
// Tests: tests/skip-locked-queue.test.ts, tests/skip-locked-recovery.test.ts
// (npm run check week7 skip-locked-queue).
// Keep the exported names and signatures: the tests import them.

import type pg from "pg";
import { NotImplementedError } from "#kata";

/** A claimed job, as the handler sees it. */
export interface Job {
  readonly id: string;
  readonly payload: unknown;
  readonly priority: number;
  /** Failed attempts before this one. */
  readonly attempts: number;
  readonly createdAt: Date;
}

/** Does the job's work; `tx` is the claiming transaction: write through it to commit with the job. */
export type JobHandler = (job: Job, tx: pg.PoolClient) => Promise<void>;

/** What processNext did with the job it claimed. */
export type JobOutcome =
  | { readonly job: Job; readonly status: "done" }
  | { readonly job: Job; readonly status: "retry" | "failed"; readonly error: unknown };

export interface JobQueueOptions {
  /** How long a worker may hold a job without using the database; default 30 000 ms. */
  readonly visibilityTimeoutMs?: number;
  /** Attempts before a job is 'failed'; default 5. */
  readonly maxAttempts?: number;
}

export interface EnqueueOptions {
  /** Higher runs first; default 0. */
  readonly priority?: number;
}

/** The worker held the job but could not commit its outcome: another worker will run it. */
export class JobLostError extends Error {
  readonly code = "ERR_JOB_LOST";

  constructor(
    readonly jobId: string,
    options?: { cause?: unknown },
  ) {
    super(`lost job ${jobId}: its transaction ended before the outcome was committed`, options);
    this.name = "JobLostError";
  }
}

/** A Postgres job queue whose workers claim jobs with FOR UPDATE SKIP LOCKED. */
export class JobQueue {
  constructor(
    private readonly pool: pg.Pool,
    options: JobQueueOptions = {},
  ) {
    // TODO: keep the options, with their defaults.
  }

  /** Adds a queued job and answers its id. */
  async enqueue(payload: unknown, options: EnqueueOptions = {}): Promise<string> {
    // TODO: INSERT ... RETURNING id.
    throw new NotImplementedError("skip-locked-queue");
  }

  /**
   * Claims the next job, runs `handler` in the claiming transaction and commits the outcome;
   * null when no job is claimable now.
   */
  async processNext(handler: JobHandler): Promise<JobOutcome | null> {
    // TODO: connect; listen for 'error'; BEGIN; SET LOCAL the idle timeout; claim with
    //       ORDER BY priority DESC, created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED;
    // TODO: SAVEPOINT, handler, mark done (or roll back to the savepoint and record the
    //       failure), COMMIT; JobLostError when the outcome could not be committed.
    throw new NotImplementedError("skip-locked-queue");
  }
}
