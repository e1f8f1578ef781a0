import { describe, expect, it } from "vitest";
import { usePostgres } from "#fixtures/postgres";
import { JobLostError, JobQueue, type JobHandler, type JobOutcome } from "../src/job-queue";
import { failureOf } from "./support/failure";
import { useJobs } from "./support/jobs";

// Recovery: a failing handler, a killed worker, a hung worker, and the connection each leaves
// behind. Claiming itself is in skip-locked-queue.test.ts.
const postgres = usePostgres();
const jobs = useJobs(postgres);

describe("gives a failed or crashed worker's job back", { timeout: 30_000 }, () => {
  it("undoes a throwing handler's writes and retries the job, which fails for good at maxAttempts", async () => {
    const queue = new JobQueue(jobs.pool, { maxAttempts: 3 });
    const id = await queue.enqueue({ n: 1 });
    const failing: JobHandler = async (job, tx) => {
      await tx.query("INSERT INTO effects (job_id, worker) VALUES ($1, 'failing')", [job.id]);
      throw new Error(`boom ${job.attempts + 1}`);
    };
    const first = await queue.processNext(failing).catch((error: unknown) => ({ rejected: error }));
    expect(first, "a handler's failure is an outcome (status retry), not a rejection of processNext").toMatchObject({
      status: "retry",
      job: { id, attempts: 0 },
    });
    expect((first as { error: Error }).error.message).toBe("boom 1");
    expect(
      await jobs.effects(),
      "the failed attempt's writes roll back (a savepoint), or the retry would apply them twice",
    ).toEqual([]);
    expect(await jobs.statusOf(id), "the attempt is recorded and the job stays queued").toEqual({
      status: "queued",
      attempts: 1,
      last_error: "boom 1",
    });

    expect(await queue.processNext(failing), "the job is claimable again at once").toMatchObject({
      status: "retry",
      job: { id, attempts: 1 },
    });
    expect(await queue.processNext(failing), "the third of maxAttempts 3 fails it for good").toMatchObject({
      status: "failed",
      job: { id, attempts: 2 },
    });
    expect(await jobs.statusOf(id)).toEqual({ status: "failed", attempts: 3, last_error: "boom 3" });
    expect(await queue.processNext(jobs.recordEffect("late")), "a failed job is not claimed again").toBeNull();
  });

  it("frees the job of a worker killed mid-job; that worker's processNext rejects with JobLostError", async () => {
    const queue = new JobQueue(jobs.pool);
    const id = await queue.enqueue({ n: 1 });
    const held = await jobs.claimAndHold(queue);
    try {
      await jobs.observer.query("SELECT pg_terminate_backend($1)", [held.pid]);
      // The backend exits shortly after the signal; its locks go with it.
      for (const deadline = Date.now() + 10_000; ;) {
        const { rows } = await jobs.observer.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [held.pid]);
        if (rows.length === 0) break;
        expect(Date.now() < deadline, "the terminated backend should have exited").toBe(true);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const rescue = await jobs.withoutWaiting(
        queue.processNext(jobs.recordEffect("rescuer")),
        "the killed worker's lock should be gone",
      );
      expect(rescue, "a crash rolls the claiming transaction back: the job is claimable again").toMatchObject({
        status: "done",
        job: { id },
      });
    } finally {
      held.release();
    }
    const lost = await held.outcome.then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(lost, "the worker whose connection died must not report the job as done").toBeInstanceOf(JobLostError);
    expect(lost).toMatchObject({ name: "JobLostError", code: "ERR_JOB_LOST", jobId: id });
    expect(await jobs.effects()).toEqual([{ job_id: id, worker: "rescuer" }]);
  });

  it("gives a job held past the visibility timeout by a hung worker to another worker", async () => {
    const queue = new JobQueue(jobs.pool, { visibilityTimeoutMs: 300 });
    const id = await queue.enqueue({ n: 1 });
    const held = await jobs.claimAndHold(queue);
    let rescued: JobOutcome | null = null;
    try {
      for (const deadline = Date.now() + 8_000; rescued === null;) {
        rescued = await jobs.withoutWaiting(
          queue.processNext(jobs.recordEffect("rescuer")),
          "a worker must not wait for a held job",
        );
        if (rescued !== null) break;
        expect(
          Date.now() < deadline,
          "the job is still held 8 s into a 300 ms visibility timeout: a hung handler holds its job forever " +
            "(SET LOCAL idle_in_transaction_session_timeout)",
        ).toBe(true);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      held.release();
    }
    expect(rescued).toMatchObject({ status: "done", job: { id } });
    expect(await failureOf(held.outcome), "the hung worker lost the job: it must not commit it too").toBeInstanceOf(
      JobLostError,
    );
    expect(await jobs.effects(), "the job's effect committed once, by the worker that completed it").toEqual([
      { job_id: id, worker: "rescuer" },
    ]);
    expect(await jobs.statusOf(id)).toMatchObject({ status: "done" });
  });
});

describe("hands its connection back clean", () => {
  it("leaves no transaction open on its connection, whether it found no job, did one or saw one fail", async () => {
    const single = postgres.pool({ max: 1 }); // one session: each call sees what the last one left behind
    const queue = new JobQueue(single);
    const fresh = async () => {
      const { rows } = await single.query<{ fresh: boolean }>(
        "SELECT xact_start = query_start AS fresh FROM pg_stat_activity WHERE pid = pg_backend_pid()",
      );
      return rows[0]!.fresh;
    };
    expect(await queue.processNext(jobs.recordEffect("idle")), "nothing is queued").toBeNull();
    expect(await fresh(), "with no job to claim, the transaction must still end (COMMIT or ROLLBACK)").toBe(true);
    await queue.enqueue({ n: 1 });
    expect(await queue.processNext(jobs.recordEffect("w"))).toMatchObject({ status: "done" });
    expect(await fresh(), "after a job is done").toBe(true);
    await queue.enqueue({ n: 2 });
    const failing: JobHandler = async () => {
      throw new Error("boom");
    };
    expect(await queue.processNext(failing)).toMatchObject({ status: "retry" });
    expect(await fresh(), "after a job failed").toBe(true);
    expect(single.totalCount, "a healthy connection goes back to the pool instead of being destroyed").toBe(1);
  });
});

describe("reports failures outside a job as they are", () => {
  it("rethrows an error that happens before any job is claimed, not as JobLostError", async () => {
    const elsewhere = postgres.pool({ max: 1, options: "-c search_path=no_such_schema" });
    const failure = await failureOf(new JobQueue(elsewhere).processNext(jobs.recordEffect("nobody")));
    expect(failure, "no job was held, so none was lost: the caller needs the real cause").not.toBeInstanceOf(
      JobLostError,
    );
    expect(failure, "the claim's own error (42P01: there is no jobs table here)").toMatchObject({ code: "42P01" });
    expect(elsewhere.idleCount, "the client goes back to the pool").toBe(elsewhere.totalCount);
  });
});
