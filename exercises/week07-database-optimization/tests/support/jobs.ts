/**
 * What the skip-locked-queue tests share: the jobs table and an effects table in the file's
 * schema, a pool of real concurrent worker sessions, and handlers that record or hold a job.
 */
import type pg from "pg";
import { beforeAll, beforeEach, expect } from "vitest";
import type { PostgresFixture } from "#fixtures/postgres";
import type { Job, JobHandler, JobOutcome, JobQueue } from "../../src/job-queue";
import { createJobs } from "../../src/jobs-schema";
import { applicationName, deterministicPlans, lockWaiters } from "./sessions";

export interface JobsTestbed {
  /** The application_name of the workers' sessions. */
  readonly app: string;
  /** The workers' pool: real concurrent sessions, one per worker and more. */
  readonly pool: pg.Pool;
  /** The tests' own sessions, for setup, checks and EXPLAIN (deterministic plans). */
  readonly observer: pg.Pool;
  /** A handler that records its effect in the job's transaction, the way real work commits with its job. */
  recordEffect(worker: string, seen?: string[]): JobHandler;
  /**
   * Starts processNext with a handler that holds its job until released (a worker in the
   * middle of a long job), and answers once the handler runs, with the job and the backend pid.
   */
  claimAndHold(
    queue: JobQueue,
  ): Promise<{ job: Job; pid: number; outcome: Promise<JobOutcome | null>; release(): void }>;
  /** Resolves to the outcome, or fails the test if the worker blocks on another worker's lock instead. */
  withoutWaiting(work: Promise<JobOutcome | null>, why: string): Promise<JobOutcome | null>;
  statusOf(id: string): Promise<{ status: string; attempts: number; last_error: string | null } | undefined>;
  effects(): Promise<{ job_id: string; worker: string }[]>;
}

/** Call at file top level: creates the tables before the file, empties them before each test. */
export function useJobs(postgres: PostgresFixture): JobsTestbed {
  const app = applicationName(postgres, "workers");
  let pool: pg.Pool | undefined;
  let observer: pg.Pool | undefined;
  beforeAll(async () => {
    pool = postgres.pool({ max: 8, application_name: app });
    observer = postgres.pool({ ...deterministicPlans(postgres), max: 3 });
    await createJobs(observer);
    await observer.query("CREATE TABLE effects (job_id bigint NOT NULL, worker text NOT NULL)");
  });
  beforeEach(async () => {
    await observer!.query("TRUNCATE jobs, effects");
  });

  return {
    app,
    get pool() {
      return pool!;
    },
    get observer() {
      return observer!;
    },
    recordEffect:
      (worker, seen = []) =>
      async (job, tx) => {
        await tx.query("INSERT INTO effects (job_id, worker) VALUES ($1, $2)", [job.id, worker]);
        seen.push(job.id);
      },
    async claimAndHold(queue) {
      let started!: (value: { job: Job; pid: number }) => void;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const running = new Promise<{ job: Job; pid: number }>((resolve) => (started = resolve));
      const outcome = queue.processNext(async (job, tx) => {
        const { rows } = await tx.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
        started({ job, pid: rows[0]!.pid });
        await gate;
      });
      outcome.catch(() => {}); // the tests await it after releasing the handler
      const early = outcome.then((o) => {
        throw new Error(`processNext answered ${JSON.stringify(o)} without running the handler of the queued job`);
      });
      const { job, pid } = await Promise.race([running, early]);
      return { job, pid, outcome, release: () => release() };
    },
    async withoutWaiting(work, why) {
      const stop = new AbortController();
      const blocked = lockWaiters(observer!, app, 1, { signal: stop.signal, timeoutMs: 10_000 }).then((found) =>
        found ? "blocked" : "timeout",
      );
      const first = await Promise.race([work, blocked]);
      stop.abort();
      await blocked;
      expect(first, why).not.toBe("blocked");
      return work;
    },
    async statusOf(id) {
      const { rows } = await observer!.query<{ status: string; attempts: number; last_error: string | null }>(
        "SELECT status, attempts, last_error FROM jobs WHERE id = $1",
        [id],
      );
      return rows[0];
    },
    async effects() {
      const { rows } = await observer!.query<{ job_id: string; worker: string }>(
        "SELECT job_id, worker FROM effects ORDER BY job_id",
      );
      return rows;
    },
  };
}
