import { randomUUID } from "node:crypto";
import { Queue, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { useRedis } from "#fixtures/redis";
import type { CommandName, CommandPayload } from "../src/contract";
import {
  CommandProducer,
  IdempotencyConflictError,
  InvalidCommandError,
  jobIdFor,
  type CommandQueue,
  type EnqueueOptions,
} from "../src/producer";

const redis = useRedis();
// BullMQ joins its prefix and the queue name with ':' itself.
const prefix = redis.prefix.slice(0, -1);

let connection: Redis | undefined;
const shared = () => (connection ??= redis.rawClient({ maxRetriesPerRequest: null }));
const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((resource) => resource.close()));
});

let queues = 0;
/** Every test gets its own queue, so counts and order never leak between tests. */
function freshQueue(): Queue<CommandPayload, unknown, CommandName> {
  const queue = new Queue<CommandPayload, unknown, CommandName>(`orders-${++queues}`, { connection: shared(), prefix });
  opened.push(queue);
  return queue;
}

/** A worker that fetches by hand, so a test decides exactly when each job is taken. */
function manualWorker(queue: Queue): { next(): Promise<Job | undefined>; token: string } {
  const worker = new Worker(queue.name, null, { connection: shared(), prefix, autorun: false });
  opened.push(worker);
  const token = randomUUID();
  return { token, next: () => worker.getNextJob(token, { block: false }) };
}

/** The real queue, with a record of every add: proof of what did (not) reach Redis. */
function recording(queue: CommandQueue): { queue: CommandQueue; adds: unknown[][] } {
  const adds: unknown[][] = [];
  return {
    adds,
    queue: {
      add: (...args) => {
        adds.push(args);
        return queue.add(...args);
      },
      getJob: (id) => queue.getJob(id),
    },
  };
}

const receipt = { orderId: "ord_8f3k2m9q", email: "ada@example.com", totalCents: 4200 };
const key = (): EnqueueOptions => ({ idempotencyKey: randomUUID() });

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail("expected the command to be refused, but it was enqueued"),
    (error: unknown) => error,
  );
}

function pathsOf(error: unknown): string[] {
  expect(error, "an invalid command must throw InvalidCommandError (a 400 for the HTTP layer)").toBeInstanceOf(
    InvalidCommandError,
  );
  const { issues, message } = error as InvalidCommandError;
  for (const issue of issues) {
    expect(issue.message, `the issue at ${issue.path} must say what is wrong`).not.toBe("");
    expect(message, "the error message lists every issue, for the logs").toContain(issue.path);
  }
  return issues.map((issue) => issue.path);
}

describe("validates commands before anything reaches Redis", () => {
  it("rejects a payload that breaks the contract with InvalidCommandError listing every bad field", async () => {
    const queue = freshQueue();
    const spy = recording(queue);
    const error = await rejection(
      new CommandProducer(spy.queue).enqueue("send-receipt", { orderId: "ord_8f3k2m9q", email: "not-an-email" }, key()),
    );
    const paths = pathsOf(error);
    expect(paths.sort(), "each issue is addressed like a form field under payload.").toEqual([
      "payload.email",
      "payload.totalCents",
    ]);
    expect(error).toMatchObject({ code: "ERR_INVALID_COMMAND", name: "InvalidCommandError" });
    expect(spy.adds, "validation happens before the first call to Redis").toHaveLength(0);
    expect(await queue.count(), "nothing may be enqueued for an invalid command").toBe(0);
  });

  it("rejects an unknown command name", async () => {
    const spy = recording(freshQueue());
    const error = await rejection(new CommandProducer(spy.queue).enqueue("refund-everything", receipt, key()));
    expect(pathsOf(error), "an unknown command is an issue on its name").toContain("name");
    expect(spy.adds).toHaveLength(0);
  });

  it("rejects unknown fields instead of silently dropping them", async () => {
    const spy = recording(freshQueue());
    const error = await rejection(
      new CommandProducer(spy.queue).enqueue("send-receipt", { ...receipt, emial: "typo@example.com" }, key()),
    );
    expect(pathsOf(error), "a misspelt field must be reported by its own name").toContain("payload.emial");
    expect(spy.adds).toHaveLength(0);
  });

  it("rejects a bad idempotency key, a negative delay and a timestamp passed as a delay, as options issues", async () => {
    const spy = recording(freshQueue());
    const producer = new CommandProducer(spy.queue);
    expect(pathsOf(await rejection(producer.enqueue("send-receipt", receipt, { idempotencyKey: "" })))).toEqual([
      "options.idempotencyKey",
    ]);
    expect(
      pathsOf(await rejection(producer.enqueue("send-receipt", receipt, { idempotencyKey: "a\nb" }))),
      "a header value cannot carry control characters",
    ).toEqual(["options.idempotencyKey"]);
    expect(pathsOf(await rejection(producer.enqueue("send-receipt", receipt, { ...key(), delayMs: -1 })))).toEqual([
      "options.delayMs",
    ]);
    expect(
      pathsOf(await rejection(producer.enqueue("send-receipt", receipt, { ...key(), delayMs: Date.now() }))),
      "Date.now() is a point in time, not a delay: a job scheduled 56 years ahead is a bug",
    ).toEqual(["options.delayMs"]);
    expect(spy.adds).toHaveLength(0);
  });

  it("reports the problems of the payload and of the options together, in one error", async () => {
    const spy = recording(freshQueue());
    const error = await rejection(
      new CommandProducer(spy.queue).enqueue(
        "send-receipt",
        { ...receipt, totalCents: -1 },
        { idempotencyKey: "", delayMs: -1 },
      ),
    );
    expect(
      pathsOf(error).sort(),
      "a client that fixes one field per round trip needs three requests; list everything that is wrong at once",
    ).toEqual(["options.delayMs", "options.idempotencyKey", "payload.totalCents"]);
    expect(spy.adds).toHaveLength(0);
  });

  it("accepts a delay of up to 30 days, and not a millisecond more", async () => {
    const queue = freshQueue();
    const producer = new CommandProducer(queue);
    const thirtyDays = 30 * 24 * 60 * 60 * 1000;
    const { jobId } = await producer.enqueue("send-receipt", receipt, { ...key(), delayMs: thirtyDays });
    expect((await queue.getJob(jobId))?.delay).toBe(thirtyDays);
    expect(
      pathsOf(await rejection(producer.enqueue("send-receipt", receipt, { ...key(), delayMs: thirtyDays + 1 }))),
    ).toEqual(["options.delayMs"]);
  });

  it("enqueues the payload as the contract parsed it, so the worker sees normalised data", async () => {
    const queue = freshQueue();
    const { jobId, payload } = await new CommandProducer(queue).enqueue(
      "send-receipt",
      { ...receipt, email: "  Ada@Example.COM " },
      key(),
    );
    expect(payload).toEqual(receipt);
    const job = await queue.getJob(jobId);
    expect(job?.name).toBe("send-receipt");
    expect(job?.data, "the queue must hold the parsed payload, not the raw input").toEqual(receipt);
  });
});

describe("derives deterministic job ids", () => {
  it("gives the same id for the same command and key, and different ids otherwise", () => {
    const same = jobIdFor("send-receipt", "req-42");
    expect(jobIdFor("send-receipt", "req-42"), "a retried request must map to the same job").toBe(same);
    expect(jobIdFor("send-receipt", "req-43"), "another request is another job").not.toBe(same);
    expect(jobIdFor("charge-card", "req-42"), "the key is scoped to the command it was sent with").not.toBe(same);
  });

  it("never produces an id BullMQ refuses: no ':' and not an integer, whatever the key", async () => {
    const keys = ["123", "0", "a:b:c", "orders:42:retry", "x".repeat(255), " spaced key ", "9007199254740993"];
    for (const idempotencyKey of keys) {
      const id = jobIdFor("charge-card", idempotencyKey);
      expect(id, `BullMQ refuses ids containing ':' (key ${JSON.stringify(idempotencyKey)})`).not.toContain(":");
      expect(
        `${Number.parseInt(id, 10)}` === id,
        `BullMQ refuses integer-like ids (key ${JSON.stringify(idempotencyKey)})`,
      ).toBe(false);
      expect(id.length, "an id is a Redis key part: keep it short").toBeLessThanOrEqual(100);
    }
    const queue = freshQueue();
    const producer = new CommandProducer(queue);
    const payload = { orderId: "ord_8f3k2m9q", amountCents: 1999, currency: "EUR" };
    for (const idempotencyKey of keys) await producer.enqueue("charge-card", payload, { idempotencyKey });
    expect(await queue.count(), "every key must give a job BullMQ accepts").toBe(keys.length);
  });

  it("uses the derived id as the BullMQ job id", async () => {
    const queue = freshQueue();
    const { jobId } = await new CommandProducer(queue).enqueue("send-receipt", receipt, { idempotencyKey: "req-7" });
    expect(jobId).toBe(jobIdFor("send-receipt", "req-7"));
    expect((await queue.getJob(jobId))?.id).toBe(jobId);
  });
});

describe("a retried request does not enqueue twice", () => {
  it("enqueueing the same command with the same key twice leaves one job", async () => {
    const queue = freshQueue();
    const producer = new CommandProducer(queue);
    const options = key();
    const first = await producer.enqueue("send-receipt", receipt, options);
    const retry = await producer.enqueue("send-receipt", receipt, options);
    expect(retry.jobId, "the retry must answer with the original job").toBe(first.jobId);
    expect(await queue.count(), "a retried HTTP request must not send two receipts").toBe(1);
  });

  it("a retry whose payload is written differently but parses the same is the same request, not a conflict", async () => {
    const queue = freshQueue();
    const producer = new CommandProducer(queue);
    const options = key();
    const attempts: unknown[] = [];
    for (let i = 0; i < 2; i++) {
      attempts.push(
        await producer
          .enqueue("send-receipt", { ...receipt, email: " Ada@Example.com" }, options)
          .catch((error: unknown) => error),
      );
    }
    expect(
      attempts.map((attempt) => (attempt instanceof Error ? attempt.name : "enqueued")),
      "compare the parsed payload with the stored one: the queue holds the normalised e-mail, the client sent the raw one",
    ).toEqual(["enqueued", "enqueued"]);
    expect(attempts[1], "the retry answers with the first job").toEqual(attempts[0]);
    expect(await queue.count()).toBe(1);
  });

  it("concurrent retries of one request still leave one job", async () => {
    const queue = freshQueue();
    const producer = new CommandProducer(queue);
    const options = key();
    const results = await Promise.all(
      Array.from({ length: 8 }, () => producer.enqueue("send-receipt", receipt, options)),
    );
    expect(new Set(results.map((r) => r.jobId)).size).toBe(1);
    expect(await queue.count(), "eight racing retries are still one request").toBe(1);
  });

  it("a retry after the job completed does not run it again while the job is retained", async () => {
    const queue = freshQueue();
    const producer = new CommandProducer(queue);
    const options = key();
    const { jobId } = await producer.enqueue("send-receipt", receipt, options);
    const worker = manualWorker(queue);
    const job = await worker.next();
    expect(job?.id).toBe(jobId);
    await job!.moveToCompleted("sent", worker.token, false);

    const retry = await producer.enqueue("send-receipt", receipt, options);
    expect(retry.jobId).toBe(jobId);
    expect(await queue.getJobState(jobId), "the completed job stays completed").toBe("completed");
    expect(await queue.count(), "nothing new may wait: the receipt was already sent").toBe(0);
  });

  it("keeps finished jobs for the dedupe window, because BullMQ forgets the ids of removed jobs", async () => {
    const queue = freshQueue();
    const byDefault = await new CommandProducer(queue).enqueue("send-receipt", receipt, key());
    expect((await queue.getJob(byDefault.jobId))?.opts.removeOnComplete, "the default window is one day").toEqual({
      age: 86_400,
    });
    const { jobId } = await new CommandProducer(queue, { dedupeWindowSeconds: 3600 }).enqueue(
      "send-receipt",
      receipt,
      key(),
    );
    const job = await queue.getJob(jobId);
    expect(
      job?.opts.removeOnComplete,
      "removeOnComplete: true would let a retry arriving after completion run the command again",
    ).toEqual({ age: 3600 });
    const onFail = job?.opts.removeOnFail;
    expect(onFail, "failed jobs must be retained too, at least as long as completed ones").toMatchObject({
      age: expect.any(Number),
    });
    expect((onFail as { age: number }).age).toBeGreaterThanOrEqual(3600);
  });

  it("refuses a dedupe window that is not a positive number of whole seconds", () => {
    const queue = freshQueue();
    for (const dedupeWindowSeconds of [0, -3600, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(
        () => new CommandProducer(queue, { dedupeWindowSeconds }),
        `a window of ${dedupeWindowSeconds} s keeps no finished job: every retry runs again`,
      ).toThrow(RangeError);
    }
    expect(() => new CommandProducer(queue, { dedupeWindowSeconds: 1 })).not.toThrow();
  });

  it("reusing a key for a different payload is an IdempotencyConflictError, and the first job is kept", async () => {
    const queue = freshQueue();
    const producer = new CommandProducer(queue);
    const options = key();
    const { jobId } = await producer.enqueue("send-receipt", receipt, options);
    const error = await rejection(producer.enqueue("send-receipt", { ...receipt, totalCents: 1 }, options));
    expect(error, "the same key with another body is a client bug, not a retry").toBeInstanceOf(
      IdempotencyConflictError,
    );
    expect(error).toMatchObject({ code: "ERR_IDEMPOTENCY_CONFLICT", jobId, name: "IdempotencyConflictError" });
    expect((error as Error).message, "the message names the job, for whoever debugs the client").toContain(jobId);
    expect((await queue.getJob(jobId))?.data, "the original command must survive the conflicting one").toEqual(receipt);
    expect(await queue.count()).toBe(1);
  });
});

describe("priorities and delays", () => {
  const order = (n: number) => ({ ...receipt, orderId: `ord_${String(n).padStart(8, "0")}` });

  async function takeAll(queue: Queue): Promise<string[]> {
    const worker = manualWorker(queue);
    const taken: string[] = [];
    for (let job = await worker.next(); job; job = await worker.next()) taken.push(job.data.orderId as string);
    return taken;
  }

  it("hands out critical before normal before bulk, whatever the order they were enqueued in", async () => {
    const queue = freshQueue();
    const producer = new CommandProducer(queue);
    await producer.enqueue("send-receipt", order(1), { ...key(), priority: "bulk" });
    await producer.enqueue("send-receipt", order(2), { ...key(), priority: "normal" });
    await producer.enqueue("send-receipt", order(3), { ...key(), priority: "critical" });
    expect(await takeAll(queue)).toEqual([order(3).orderId, order(2).orderId, order(1).orderId]);
  });

  it("keeps first-in first-out order within one priority", async () => {
    const queue = freshQueue();
    const producer = new CommandProducer(queue);
    for (const n of [1, 2, 3]) await producer.enqueue("send-receipt", order(n), { ...key(), priority: "bulk" });
    expect(await takeAll(queue)).toEqual([1, 2, 3].map((n) => order(n).orderId));
  });

  it("an omitted priority is normal, not BullMQ's un-prioritised 0 that would jump ahead of critical work", async () => {
    const queue = freshQueue();
    const producer = new CommandProducer(queue);
    await producer.enqueue("send-receipt", order(1), { ...key(), priority: "critical" });
    await producer.enqueue("send-receipt", order(2), key());
    await producer.enqueue("send-receipt", order(3), { ...key(), priority: "bulk" });
    expect(
      await takeAll(queue),
      "BullMQ serves priority 0 (none) before every prioritised job, so 'normal' must be an explicit level",
    ).toEqual([order(1).orderId, order(2).orderId, order(3).orderId]);
  });

  it("delays a job: it waits in the delayed set and is not handed out before its time", async () => {
    const queue = freshQueue();
    const producer = new CommandProducer(queue);
    const later = await producer.enqueue("send-receipt", order(1), { ...key(), delayMs: 60_000 });
    await producer.enqueue("send-receipt", order(2), key());
    expect(await queue.getJobState(later.jobId)).toBe("delayed");
    expect((await queue.getJob(later.jobId))?.delay).toBe(60_000);
    expect(await takeAll(queue), "only the undelayed job may be taken now").toEqual([order(2).orderId]);
  });
});
