import { Queue, QueueEvents, Worker, type Job } from "bullmq";
import { Redis } from "ioredis";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { usePostgres } from "#fixtures/postgres";
import { spawnKata, type KataProcess } from "#fixtures/process";
import { useRedis } from "#fixtures/redis";
import { kataPath } from "#fixtures/target";
import { startGracefulWorker, type GracefulWorker } from "../src/graceful-worker";
import { createLedgerSchema } from "../src/ledger-schema";

const redis = useRedis();
const postgres = usePostgres();
const prefix = redis.prefix.slice(0, -1);

beforeAll(async () => {
  await createLedgerSchema(postgres.pool());
});

let connection: Redis | undefined;
const shared = () => (connection ??= redis.rawClient({ maxRetriesPerRequest: null }));
const opened: { close(): Promise<void> }[] = [];
const children: KataProcess[] = [];
afterEach(async () => {
  // A test that failed half-way must not leave a worker process behind.
  for (const child of children.splice(0)) {
    if (child.child.exitCode === null && child.child.signalCode === null) child.child.kill("SIGKILL");
    await child.exited();
  }
  for (const resource of opened.splice(0).reverse()) await resource.close();
});

/** Settles with the promise, or fails after `ms` naming what never happened. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function deferred(): { promise: Promise<void>; resolve(): void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

let queues = 0;
async function queueWithEvents() {
  const queueName = `credits-${++queues}`;
  const queue = new Queue(queueName, { connection: shared(), prefix });
  const events = new QueueEvents(queueName, { connection: redis.rawClient({ maxRetriesPerRequest: null }), prefix });
  opened.push(queue, events);
  await events.waitUntilReady();
  return { queueName, queue, events };
}

/**
 * A graceful worker in this process. It first runs a quick job, then takes one that holds until
 * the test releases it.
 */
async function heldJob(settings: { lockDurationMs?: number; stalledIntervalMs?: number } = {}) {
  const { queueName, queue, events } = await queueWithEvents();
  const started = deferred();
  const release = deferred();
  const draining = deferred();
  const signals: (AbortSignal | undefined)[] = [];
  const finished: string[] = [];
  const lines: string[] = [];
  // Handed over: the graceful worker owns this connection and must close it itself.
  const workerConnection = new Redis(redis.url, { maxRetriesPerRequest: null });
  workerConnection.on("error", () => {});
  let graceful: GracefulWorker | undefined;
  // Whatever the test did, the held job is let go, the worker stopped and the connection gone.
  opened.push({
    close: async () => {
      release.resolve();
      const stopping = Promise.resolve().then(() => graceful?.shutdown(5_000));
      await within(stopping, 7_000, "shutdown during cleanup").catch(() => {});
      if (workerConnection.status !== "end") workerConnection.disconnect();
    },
  });
  graceful = startGracefulWorker({
    queueName,
    connection: workerConnection,
    prefix,
    processor: async (job: Job, _token?: string, signal?: AbortSignal) => {
      if (job.name === "quick") return "quick";
      signals.push(signal);
      started.resolve();
      await release.promise;
      finished.push(job.id!);
      return "done";
    },
    log: (line) => {
      lines.push(line);
      if (line === "draining") draining.resolve();
    },
    ...settings,
  });
  await graceful.ready();
  await queue.add("quick", {}, { jobId: `quick-${queues}` });
  const job = await queue.add("work", {}, { jobId: `held-${queues}` });
  await within(started.promise, 10_000, "the worker taking the job");
  return { queueName, queue, events, job, graceful, release, draining, signals, finished, lines, workerConnection };
}

describe("shuts down within a deadline", () => {
  it("waits for the active job to finish, and the job completes", async () => {
    const h = await heldJob();
    void h.draining.promise.then(() => h.release.resolve()); // the job finishes only once the drain has begun
    const report = await h.graceful.shutdown(10_000);
    expect(h.finished, "the job must have run to its end before shutdown resolved").toEqual([h.job.id]);
    expect(report).toEqual({ drained: true, abandoned: [] });
    expect(await h.queue.getJobState(h.job.id!), "a drained job is acked, not left active for the stall checker").toBe(
      "completed",
    );
    expect(h.lines, "the lifecycle is logged: draining, then each finished job").toEqual(
      expect.arrayContaining(["draining", `job ${h.job.id} completed`]),
    );
  });

  it("stops taking new jobs as soon as the drain begins", async () => {
    const h = await heldJob();
    const shutdown = h.graceful.shutdown(10_000);
    await within(h.draining.promise, 5_000, "the 'draining' log line");
    const late = await h.queue.add("work", {}, { jobId: "late" });
    h.release.resolve();
    await shutdown;
    expect(h.finished, "only the job that was already running may finish").toEqual([h.job.id]);
    expect(await h.queue.getJobState(late.id!), "a job added during the drain is for the next worker").toBe("waiting");
  });

  it("at the deadline, aborts the running job's signal and reports it as abandoned instead of waiting forever", async () => {
    const h = await heldJob();
    const report = await within(h.graceful.shutdown(0), 10_000, "shutdown despite a job that never ends");
    expect(report, "worker.close() alone would wait for this job forever; the quick job is long done").toEqual({
      drained: false,
      abandoned: [h.job.id],
    });
    expect(h.signals[0], "BullMQ passes a signal only to processors that declare (job, token, signal)").toBeInstanceOf(
      AbortSignal,
    );
    expect(h.signals[0]?.aborted, "a cooperative job gets the chance to stop at the deadline").toBe(true);
    expect(h.finished, "the job was still running").toEqual([]);
  });

  it(
    "at the deadline, lets go of the abandoned job so that another worker recovers it once its lock expires",
    { timeout: 30_000 },
    async () => {
      // A short lock, and a short stalled interval: BullMQ runs one stalled check per interval per
      // queue, and the worker's own check at start would otherwise keep the rescuer's off for 30 s.
      const h = await heldJob({ lockDurationMs: 500, stalledIntervalMs: 200 });
      const report = await within(h.graceful.shutdown(0), 10_000, "shutdown despite a job that never ends");
      expect(report.abandoned).toEqual([h.job.id]);
      // Another worker, whose stalled-job check looks for jobs whose lock ran out.
      const rescuer = new Worker(h.queueName, async () => "rescued", {
        connection: shared(),
        prefix,
        stalledInterval: 200,
      });
      rescuer.on("error", () => {});
      opened.push(rescuer);
      const outcome = await within(
        h.job.waitUntilFinished(h.events, 20_000),
        15_000,
        "another worker recovering the abandoned job (the old worker must stop renewing its lock: drop its Redis connection)",
      );
      expect(outcome, "the job stalled, went back to wait and another worker ran it").toBe("rescued");
    },
  );

  it("refuses a negative or NaN deadline without spoiling a later, valid shutdown", async () => {
    const h = await heldJob();
    const attempt = (deadlineMs: number) => Promise.resolve().then(() => h.graceful.shutdown(deadlineMs));
    await expect(attempt(-1)).rejects.toThrow(RangeError);
    await expect(attempt(Number.NaN)).rejects.toThrow(RangeError);
    h.release.resolve();
    expect(await h.graceful.shutdown(10_000)).toEqual({ drained: true, abandoned: [] });
  });

  it("closes the Redis connection it owns, and a second shutdown answers the same report", async () => {
    const h = await heldJob();
    h.release.resolve();
    const first = h.graceful.shutdown(10_000);
    const second = h.graceful.shutdown(10_000);
    expect(await second).toEqual(await first);
    expect(h.workerConnection.status, "worker.close() leaves a passed-in connection open: a leak per restart").toBe(
      "end",
    );
  });
});

const entry = kataPath(import.meta.url, "../src/worker-main.ts");
const holdKey = `${redis.prefix}hold`;

/** A real worker process running worker-main.ts, with short locks so a dead worker's job stalls fast. */
function spawnWorker(queueName: string, env: Record<string, string> = {}): KataProcess {
  const child = spawnKata(entry, {
    env: {
      REDIS_URL: redis.url,
      QUEUE_PREFIX: prefix,
      QUEUE_NAME: queueName,
      DATABASE_URL: postgres.url,
      DATABASE_SCHEMA: postgres.schema,
      LOCK_DURATION_MS: "1500",
      STALLED_INTERVAL_MS: "500",
      SHUTDOWN_DEADLINE_MS: "10000",
      ...env,
    },
  });
  children.push(child);
  return child;
}

let accounts = 0;
async function openAccount(balanceCents: number): Promise<string> {
  const id = `acc_proc${++accounts}`;
  await postgres.query("INSERT INTO accounts (id, balance_cents) VALUES ($1, $2)", [id, balanceCents]);
  return id;
}
async function balanceOf(accountId: string): Promise<number> {
  const { rows } = await postgres.query<{ balance_cents: string }>("SELECT balance_cents FROM accounts WHERE id = $1", [
    accountId,
  ]);
  return Number(rows[0]!.balance_cents);
}
/** The id a `holding <id>` line names: the consumer's message id for the job, whatever its format. */
const heldId = (line: string) => line.slice("holding ".length);
const releaseHold = (messageId: string) => shared().lpush(`${holdKey}:${messageId}`, "go");

// Real processes start in a second or two, more on a busy machine: these tests get a wider bound.
describe("runs as a process that drains on SIGTERM", { timeout: 60_000 }, () => {
  it("on SIGTERM mid-job, takes no new job, finishes the active one, closes everything and exits 0", async () => {
    const { queueName, queue } = await queueWithEvents();
    const accountId = await openAccount(1_000);
    // A long lock: this job is held on purpose and must not look stalled while it is.
    const worker = spawnWorker(queueName, { HOLD_KEY: holdKey, LOCK_DURATION_MS: "10000" });
    await worker.waitForLine(/^ready$/, 20_000);
    await queue.add("credit-account", { accountId, amountCents: 100 }, { jobId: "credit-sigterm" });
    const held = heldId(await worker.waitForLine(/^holding \S+$/));

    worker.child.kill("SIGTERM");
    await worker.waitForLine(/^draining$/);
    await queue.add("credit-account", { accountId, amountCents: 100 }, { jobId: "credit-late" });
    expect(await queue.getJobState("credit-sigterm"), "the held job is still in progress").toBe("active");
    await releaseHold(held);

    const exit = await within(
      worker.exited(),
      15_000,
      "the process exiting by itself after its drain (an open pool, connection or timer keeps it alive)",
    );
    expect(exit, `a drained worker exits 0 by itself; stderr:\n${worker.stderr()}`).toEqual({ code: 0, signal: null });
    expect(worker.stdout()).toMatch(/^stopped$/m);
    expect(await queue.getJobState("credit-sigterm"), "the active job was finished and acked").toBe("completed");
    expect((await queue.getJob("credit-sigterm"))?.attemptsMade).toBe(1);
    expect(await queue.getJobState("credit-late"), "no job may start once draining").toBe("waiting");
    expect(await balanceOf(accountId)).toBe(1_100);
  });
});

describe("recovers the work of a worker that died", { timeout: 60_000 }, () => {
  it("killed with SIGKILL mid-job, the job stalls, another worker completes it, and the credit happens once", async () => {
    const { queueName, queue, events } = await queueWithEvents();
    const accountId = await openAccount(1_000);
    const doomed = spawnWorker(queueName, { HOLD_KEY: holdKey });
    await doomed.waitForLine(/^ready$/, 20_000);
    const job = await queue.add("credit-account", { accountId, amountCents: 100 }, { jobId: "credit-sigkill" });
    await doomed.waitForLine(/^holding \S+$/);
    doomed.child.kill("SIGKILL"); // the effect is committed, the ack never comes
    expect(await doomed.exited()).toMatchObject({ signal: "SIGKILL" });

    const rescuer = spawnWorker(queueName);
    await rescuer.waitForLine(/^ready$/, 20_000);
    const outcome = await job.waitUntilFinished(events, 20_000);
    expect(outcome, "the second delivery must find the first one's claim").toMatchObject({
      status: "duplicate",
      result: { accountId, balanceCents: 1_100 },
    });
    const done = await queue.getJob("credit-sigkill");
    expect(done?.stalledCounter, "the job came back through BullMQ's stalled-job check").toBe(1);
    expect(done?.attemptsStarted, "two workers started it").toBe(2);
    expect(await balanceOf(accountId), "at-least-once delivery, exactly-once effect").toBe(1_100);

    rescuer.child.kill("SIGTERM");
    expect(await within(rescuer.exited(), 15_000, "an idle worker exiting on SIGTERM")).toEqual({
      code: 0,
      signal: null,
    });
  });

  it("a job that outlives the shutdown deadline is abandoned: exit 1 at the deadline, then another worker recovers it", async () => {
    const { queueName, queue, events } = await queueWithEvents();
    const accountId = await openAccount(1_000);
    const stuck = spawnWorker(queueName, { HOLD_KEY: holdKey, SHUTDOWN_DEADLINE_MS: "300" });
    await stuck.waitForLine(/^ready$/, 20_000);
    const job = await queue.add("credit-account", { accountId, amountCents: 100 }, { jobId: "credit-deadline" });
    await stuck.waitForLine(/^holding \S+$/);

    stuck.child.kill("SIGTERM");
    const exit = await within(stuck.exited(), 15_000, "the process exiting at its deadline");
    expect(exit.code, "a worker that gave up on a job must not report success").toBe(1);
    expect(stuck.stdout(), "the operator needs to know which jobs were left behind").toMatch(
      /^abandoned credit-deadline$/m,
    );

    spawnWorker(queueName);
    await expect(job.waitUntilFinished(events, 20_000)).resolves.toMatchObject({ status: "duplicate" });
    expect(await balanceOf(accountId)).toBe(1_100);
  });
});
