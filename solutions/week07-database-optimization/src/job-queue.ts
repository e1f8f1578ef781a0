// Reference solution for the `skip-locked-queue` kata: the job's row lock is the claim, the
// claiming transaction is the unit of work, and Postgres ends both when the worker dies or
// sits on the job past the visibility timeout.

import type pg from "pg";

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

interface JobRow {
  id: string;
  payload: unknown;
  priority: number;
  attempts: number;
  created_at: Date;
}

// The WHERE repeats the index's predicate and the ORDER BY is the index's order, so the plan
// walks jobs_claim_idx from its start and stops at the first row it can lock: SKIP LOCKED
// passes over rows other workers hold without waiting for them. LIMIT 1 keeps the claim to one
// row (FOR UPDATE would lock every row the query returns).
const CLAIM_SQL = `
SELECT id, payload, priority, attempts, created_at
  FROM jobs
 WHERE status = 'queued'
 ORDER BY priority DESC, created_at, id
 LIMIT 1
   FOR UPDATE SKIP LOCKED`;

const DONE_SQL = "UPDATE jobs SET status = 'done', attempts = attempts + 1, finished_at = now() WHERE id = $1";
const FAILED_SQL = `
UPDATE jobs
   SET attempts = attempts + 1,
       last_error = $2,
       status = CASE WHEN $3::boolean THEN 'failed' ELSE 'queued' END,
       finished_at = CASE WHEN $3::boolean THEN now() END
 WHERE id = $1`;

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A Postgres job queue whose workers claim jobs with FOR UPDATE SKIP LOCKED. */
export class JobQueue {
  readonly #visibilityTimeoutMs: number;
  readonly #maxAttempts: number;

  constructor(
    private readonly pool: pg.Pool,
    options: JobQueueOptions = {},
  ) {
    this.#visibilityTimeoutMs = options.visibilityTimeoutMs ?? 30_000;
    this.#maxAttempts = options.maxAttempts ?? 5;
  }

  /** Adds a queued job and answers its id. */
  async enqueue(payload: unknown, options: EnqueueOptions = {}): Promise<string> {
    const { rows } = await this.pool.query<{ id: string }>(
      "INSERT INTO jobs (payload, priority) VALUES ($1, $2) RETURNING id",
      [JSON.stringify(payload), options.priority ?? 0],
    );
    return rows[0]!.id;
  }

  /**
   * Claims the next job, runs `handler` in the claiming transaction and commits the outcome;
   * null when no job is claimable now.
   */
  async processNext(handler: JobHandler): Promise<JobOutcome | null> {
    const client = await this.pool.connect();
    // While checked out, nobody else listens: a connection that dies under a waiting handler
    // (killed, or ended by the idle timeout) would crash the process with an unhandled 'error'.
    let lost: Error | undefined;
    const onError = (error: Error) => {
      lost ??= error;
    };
    client.on("error", onError);
    let job: Job | undefined;
    try {
      await client.query("BEGIN");
      // The visibility timeout, enforced by the server: a session idle inside its transaction
      // for longer is terminated, which rolls back and unlocks the job even when this process
      // is too stuck to notice. LOCAL: it ends with the transaction, the pooled session stays clean.
      await client.query("SELECT set_config('idle_in_transaction_session_timeout', $1, true)", [
        String(this.#visibilityTimeoutMs),
      ]);
      const { rows } = await client.query<JobRow>(CLAIM_SQL);
      const row = rows[0];
      if (!row) {
        await client.query("COMMIT");
        return null;
      }
      job = {
        id: row.id,
        payload: row.payload,
        priority: row.priority,
        attempts: row.attempts,
        createdAt: row.created_at,
      };
      const outcome = await this.#run(client, job, handler);
      await client.query("COMMIT");
      return outcome;
    } catch (error) {
      await client.query("ROLLBACK").catch((rollbackError: unknown) => {
        lost ??= rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      });
      // Holding a job and failing to commit means the job is back in the queue (or soon will
      // be): the caller must not believe its work happened.
      if (job) throw new JobLostError(job.id, { cause: lost ?? error });
      throw error;
    } finally {
      client.off("error", onError);
      // A dead connection goes out of the pool; a healthy one goes back, its transaction over.
      client.release(lost);
    }
  }

  /** The handler inside a savepoint: its failure undoes its writes but keeps the claim, to record the attempt. */
  async #run(client: pg.PoolClient, job: Job, handler: JobHandler): Promise<JobOutcome> {
    await client.query("SAVEPOINT job");
    try {
      await handler(job, client);
    } catch (error) {
      // Errors of the connection itself surface here too; then the next statement fails and
      // processNext reports the job lost.
      await client.query("ROLLBACK TO SAVEPOINT job");
      const failed = job.attempts + 1 >= this.#maxAttempts;
      await client.query(FAILED_SQL, [job.id, describeError(error), failed]);
      return { job, status: failed ? "failed" : "retry", error };
    }
    await client.query(DONE_SQL, [job.id]);
    return { job, status: "done" };
  }
}
