import { setImmediate as yieldToLoop } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { explainIfPossible } from "#fixtures/pg-plan";
import { usePostgres } from "#fixtures/postgres";
import { JobQueue } from "../src/job-queue";
import { useJobs } from "./support/jobs";
import { recordingPool } from "./support/sessions";

// Claiming: exactly once, never waiting, in priority order, through the index. What happens
// when a worker fails, dies or hangs is in skip-locked-recovery.test.ts.
const postgres = usePostgres();
const jobs = useJobs(postgres);

describe("enqueues jobs", () => {
  it("stores the payload and the priority (default 0) and answers the new job's id", async () => {
    const queue = new JobQueue(jobs.pool);
    const first = await queue.enqueue({ kind: "email", to: "ada@example.com" });
    const second = await queue.enqueue(["a", "list"], { priority: 7 });
    const { rows } = await jobs.observer.query("SELECT id, payload, priority, status, attempts FROM jobs ORDER BY id");
    expect(rows).toEqual([
      { id: first, payload: { kind: "email", to: "ada@example.com" }, priority: 0, status: "queued", attempts: 0 },
      { id: second, payload: ["a", "list"], priority: 7, status: "queued", attempts: 0 },
    ]);
  });
});

describe("claims each job exactly once under contention", { timeout: 30_000 }, () => {
  it("four concurrent workers process 200 jobs, each exactly once, its effect committed once", async () => {
    await jobs.observer.query(
      "INSERT INTO jobs (payload) SELECT jsonb_build_object('n', n) FROM generate_series(1, 200) AS n",
    );
    const seen: string[] = [];
    const worker = async (name: string) => {
      const queue = new JobQueue(jobs.pool);
      const handler = jobs.recordEffect(name, seen);
      let processed = 0;
      for (;;) {
        const outcome = await queue.processNext(async (job, tx) => {
          await handler(job, tx);
          await yieldToLoop(); // give the other workers a turn while this job is held
        });
        if (outcome === null) return processed;
        expect(outcome.status).toBe("done");
        processed++;
      }
    };
    const counts = await Promise.all(["w1", "w2", "w3", "w4"].map(worker));
    expect(
      counts.reduce((a, b) => a + b, 0),
      "every job processed once, and none twice",
    ).toBe(200);
    expect(new Set(seen).size, "a job claimed without holding its lock until the end is run by two workers").toBe(
      seen.length,
    );
    expect((await jobs.effects()).length, "each job's effect commits once").toBe(200);
    const { rows } = await jobs.observer.query<{ status: string; n: number }>(
      "SELECT status, count(*)::int AS n FROM jobs GROUP BY status",
    );
    expect(rows).toEqual([{ status: "done", n: 200 }]);
  });

  it("a worker never waits for a job another worker holds: it takes the next one, or answers null", async () => {
    const queue = new JobQueue(jobs.pool);
    const first = await queue.enqueue({ n: 1 });
    const second = await queue.enqueue({ n: 2 });
    const held = await jobs.claimAndHold(queue);
    try {
      expect(held.job.id).toBe(first);
      const b = await jobs.withoutWaiting(
        queue.processNext(jobs.recordEffect("b")),
        "worker B waited for the job worker A holds: " +
          "FOR UPDATE without SKIP LOCKED makes workers queue behind each other",
      );
      expect(b?.job.id, "B takes the next job").toBe(second);
      const c = await jobs.withoutWaiting(
        queue.processNext(jobs.recordEffect("c")),
        "worker C waited for worker A's job",
      );
      expect(c, "the only queued job is held by A: there is nothing to claim now").toBeNull();
    } finally {
      held.release();
    }
    expect(await held.outcome).toMatchObject({ status: "done", job: { id: first } });
    expect(await jobs.effects()).toEqual([{ job_id: second, worker: "b" }]);
  });
});

describe("serves jobs by priority, then age, through its index", () => {
  it("processes higher priorities first, and jobs of equal priority oldest first", async () => {
    const queue = new JobQueue(jobs.pool);
    for (const [name, priority] of [
      ["a", 0],
      ["b", 5],
      ["c", 0],
      ["d", 10],
      ["e", 5],
      ["f", -1],
    ] as const)
      await queue.enqueue({ name }, { priority });
    const order: unknown[] = [];
    while (await queue.processNext(async (job) => void order.push((job.payload as { name: string }).name)));
    expect(order, "priority DESC, then created_at, then id").toEqual(["d", "b", "e", "a", "c", "f"]);
  });

  it("claims through jobs_claim_idx, with no Seq Scan and no Sort, among 20 000 finished jobs", async () => {
    await jobs.observer.query(
      `INSERT INTO jobs (payload, priority, status, attempts, created_at, finished_at)
       SELECT jsonb_build_object('n', n), n % 7, 'done', 1, now() - interval '1 day', now()
         FROM generate_series(1, 20000) AS n`,
    );
    await jobs.observer.query(
      "INSERT INTO jobs (payload, priority) SELECT jsonb_build_object('n', n), n % 3 FROM generate_series(1, 50) AS n",
    );
    await jobs.observer.query("ANALYZE jobs");
    const recording = recordingPool(postgres, { max: 2 });
    const outcome = await new JobQueue(recording.pool).processNext(async () => {});
    expect(outcome?.status).toBe("done");
    const plans = [];
    for (const statement of recording.take()) {
      const plan = await explainIfPossible(jobs.observer, statement.text, statement.values);
      if (plan && plan.scans("jobs").length > 0) plans.push(plan);
    }
    expect(plans, "no statement that reads jobs was sent").not.toHaveLength(0);
    for (const plan of plans) {
      expect(plan.hasSeqScan("jobs"), `reads every job, finished ones included: ${plan.describe()}`).toBe(false);
      expect(
        plan.has("Sort") || plan.has("Incremental Sort"),
        `${plan.describe()}: order by exactly the index's order (priority DESC, created_at, id) ` +
          "with WHERE status = 'queued', so the claim stops at the first unlocked row " +
          "instead of sorting every queued job",
      ).toBe(false);
    }
    expect(
      plans.flatMap((p) => p.indexesUsed("jobs")),
      "the claim reads the partial index of queued jobs",
    ).toContain("jobs_claim_idx");
  });
});
