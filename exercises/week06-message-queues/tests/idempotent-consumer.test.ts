import { randomUUID } from "node:crypto";
import { Queue, QueueEvents, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type pg from "pg";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { usePostgres } from "#fixtures/postgres";
import { useRedis } from "#fixtures/redis";
import { CreditConsumer, UnknownAccountError, type ConsumerHooks, type Outcome } from "../src/idempotent-consumer";
import { createLedgerSchema } from "../src/ledger-schema";

const redis = useRedis();
const postgres = usePostgres();
const prefix = redis.prefix.slice(0, -1);

let pool: pg.Pool;
beforeAll(async () => {
  // Enough sessions for the concurrent deliveries to really run side by side.
  pool = postgres.pool({ max: 12 });
  await createLedgerSchema(pool);
});

let connection: Redis | undefined;
const shared = () => (connection ??= redis.rawClient({ maxRetriesPerRequest: null }));
const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const resource of opened.splice(0).reverse()) await resource.close();
});

let accounts = 0;
async function openAccount(balanceCents = 1_000): Promise<string> {
  const id = `acc_test${++accounts}`;
  await postgres.query("INSERT INTO accounts (id, balance_cents) VALUES ($1, $2)", [id, balanceCents]);
  return id;
}
async function balanceOf(accountId: string): Promise<number> {
  const { rows } = await postgres.query<{ balance_cents: string }>("SELECT balance_cents FROM accounts WHERE id = $1", [
    accountId,
  ]);
  return Number(rows[0]!.balance_cents);
}
async function claims(messageId: string): Promise<number> {
  const { rows } = await postgres.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM processed_messages WHERE message_id = $1",
    [messageId],
  );
  return rows[0]!.n;
}
const messageId = () => `msg-${randomUUID()}`;

/** Hooks that throw the first time, at the given point: a process dying there, then a redelivery. */
function crashOnce(point: keyof ConsumerHooks): ConsumerHooks & { calls: number } {
  const hooks = {
    calls: 0,
    [point]: () => {
      if (hooks.calls++ === 0) throw new Error(`simulated crash (${point})`);
    },
  };
  return hooks;
}

describe("applies the effect once per message id", () => {
  it("credits the account and answers applied with the new balance on the first delivery", async () => {
    const accountId = await openAccount(1_000);
    const outcome = await new CreditConsumer(pool).handle(messageId(), { accountId, amountCents: 250 });
    expect(outcome).toEqual({ status: "applied", result: { accountId, balanceCents: 1_250 } });
    expect(await balanceOf(accountId)).toBe(1_250);
  });

  it("a redelivery changes nothing and answers the first delivery's result, not today's balance", async () => {
    const accountId = await openAccount(1_000);
    const consumer = new CreditConsumer(pool);
    const first = messageId();
    await consumer.handle(first, { accountId, amountCents: 250 });
    await consumer.handle(messageId(), { accountId, amountCents: 250 });
    expect(await balanceOf(accountId), "two different messages are two credits").toBe(1_500);

    const again = await consumer.handle(first, { accountId, amountCents: 250 });
    expect(again.status, "at-least-once delivery means the same message comes back").toBe("duplicate");
    expect(again.result, "the redelivery must get the answer the first delivery got").toEqual({
      accountId,
      balanceCents: 1_250,
    });
    expect(await balanceOf(accountId), "a duplicate must not credit again").toBe(1_500);
    expect(await claims(first)).toBe(1);
  });
});

describe("runs the hooks at the two crash points", () => {
  it("runs beforeCommit and afterCommit once, for the delivery that applies the message, and neither for a duplicate", async () => {
    const accountId = await openAccount(0);
    const calls: string[] = [];
    const consumer = new CreditConsumer(pool, {
      beforeCommit: (id) => void calls.push(`before ${id}`),
      afterCommit: (id) => void calls.push(`after ${id}`),
    });
    const id = messageId();
    await consumer.handle(id, { accountId, amountCents: 5 });
    expect(calls, "beforeCommit inside the transaction, afterCommit once it committed").toEqual([
      `before ${id}`,
      `after ${id}`,
    ]);
    await consumer.handle(id, { accountId, amountCents: 5 });
    expect(calls, "a duplicate commits nothing: there is no commit to run a hook before or after").toHaveLength(2);
  });
});

describe("stays exactly-once under concurrent deliveries", () => {
  it("ten concurrent deliveries of one message apply it once: one applied, nine duplicates, one result", async () => {
    const accountId = await openAccount(1_000);
    // Sessions of their own, named, so the test can see them wait: the first delivery to reach
    // its commit holds it until the nine others are blocked on its locks (or 3 s have passed),
    // so the deliveries really overlap instead of running one after another by luck.
    const tag = `race-${randomUUID().slice(0, 8)}`;
    const racing = postgres.pool({ max: 10, application_name: tag });
    let holding = false;
    const consumer = new CreditConsumer(racing, {
      beforeCommit: async () => {
        if (holding) return;
        holding = true;
        for (let waited = 0; waited < 3_000; waited += 10) {
          const { rows } = await postgres.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
            [tag],
          );
          if (rows[0]!.n >= 9) return;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      },
    });
    const id = messageId();
    const settled = await Promise.allSettled(
      Array.from({ length: 10 }, () => consumer.handle(id, { accountId, amountCents: 100 })),
    );
    const statuses = settled
      .map((s) => (s.status === "fulfilled" ? s.value.status : `failed: ${String(s.reason)}`))
      .sort();
    expect(
      statuses,
      "check-then-insert races: the claim and the effect must be one atomic step, and a lost race is a duplicate, not an error",
    ).toEqual(["applied", ...Array<Outcome["status"]>(9).fill("duplicate")]);
    const outcomes = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    expect(new Set(outcomes.map((o) => o.result.balanceCents)), "every delivery answers the same result").toEqual(
      new Set([1_100]),
    );
    expect(await balanceOf(accountId)).toBe(1_100);
  });

  it("concurrent deliveries of different messages to one account lose no update", async () => {
    const accountId = await openAccount(0);
    const consumer = new CreditConsumer(pool);
    await Promise.all(Array.from({ length: 10 }, () => consumer.handle(messageId(), { accountId, amountCents: 10 })));
    expect(
      await balanceOf(accountId),
      "read-modify-write in JavaScript loses concurrent credits; increment in SQL",
    ).toBe(100);
  });
});

describe("survives a crash at any point", () => {
  it("a crash before commit leaves neither the effect nor the claim, so the redelivery applies it", async () => {
    const accountId = await openAccount(1_000);
    const hooks = crashOnce("beforeCommit");
    const consumer = new CreditConsumer(pool, hooks);
    const id = messageId();
    await expect(consumer.handle(id, { accountId, amountCents: 300 })).rejects.toThrow("simulated crash");
    expect(await balanceOf(accountId), "the effect must roll back with the transaction").toBe(1_000);
    expect(await claims(id), "a claim that outlives a rolled-back effect would swallow the message forever").toBe(0);

    const redelivered = await consumer.handle(id, { accountId, amountCents: 300 });
    expect(redelivered.status).toBe("applied");
    expect(await balanceOf(accountId)).toBe(1_300);
  });

  it("an unknown account fails with UnknownAccountError and claims nothing, so the message can apply once the account exists", async () => {
    const consumer = new CreditConsumer(pool);
    const id = messageId();
    const accountId = `acc_late${++accounts}`;
    const failure = consumer.handle(id, { accountId, amountCents: 50 });
    await expect(failure).rejects.toBeInstanceOf(UnknownAccountError);
    await expect(failure).rejects.toMatchObject({
      code: "ERR_UNKNOWN_ACCOUNT",
      name: "UnknownAccountError",
      accountId,
    });
    expect(await claims(id)).toBe(0);
    await postgres.query("INSERT INTO accounts (id, balance_cents) VALUES ($1, 0)", [accountId]);
    expect((await consumer.handle(id, { accountId, amountCents: 50 })).status).toBe("applied");
    expect(await balanceOf(accountId)).toBe(50);
  });

  it("every path hands its connection back clean: no open transaction, and no reconnect per message", async () => {
    const accountId = await openAccount(0);
    const single = postgres.pool({ max: 1 }); // one session: each message sees what the last one left behind
    let sessions = 0;
    single.on("connect", () => {
      sessions += 1;
    });
    const consumer = new CreditConsumer(single, crashOnce("beforeCommit"));
    const inOwnTransaction = async () => {
      const { rows } = await single.query<{ fresh: boolean }>(
        "SELECT xact_start = query_start AS fresh FROM pg_stat_activity WHERE pid = pg_backend_pid()",
      );
      return rows[0]!.fresh;
    };

    await expect(consumer.handle(messageId(), { accountId, amountCents: 5 })).rejects.toThrow("simulated crash");
    expect(
      await inOwnTransaction(),
      "a failed message must roll back, or the next one runs inside its transaction",
    ).toBe(true);
    const id = messageId();
    await consumer.handle(id, { accountId, amountCents: 7 });
    expect(await balanceOf(accountId), "the rolled-back credit must not be committed along with the next message").toBe(
      7,
    );
    expect((await consumer.handle(id, { accountId, amountCents: 7 })).status).toBe("duplicate");
    expect(await inOwnTransaction(), "the duplicate path must end its transaction too").toBe(true);
    expect(
      sessions,
      "a healthy connection goes back to the pool instead of being destroyed: one session for every message",
    ).toBe(1);
  });
});

let queues = 0;
async function bullmq(consumer: CreditConsumer) {
  const queueName = `credits-${++queues}`;
  const queue = new Queue(queueName, { connection: shared(), prefix });
  const events = new QueueEvents(queueName, { connection: redis.rawClient({ maxRetriesPerRequest: null }), prefix });
  opened.push(queue, events);
  await events.waitUntilReady();
  const worker = new Worker(queueName, consumer.processor(), { connection: shared(), prefix });
  worker.on("error", () => {});
  opened.push(worker);
  const retrying = { attempts: 3, backoff: { type: "fixed", delay: 10 } };
  return { queue, events, retrying };
}

async function inboxRows(): Promise<number> {
  const { rows } = await postgres.query<{ n: number }>("SELECT count(*)::int AS n FROM processed_messages");
  return rows[0]!.n;
}

describe("runs as a BullMQ processor", () => {
  it("a crash between commit and ack is absorbed: BullMQ redelivers and the effect stays single", async () => {
    const accountId = await openAccount(1_000);
    const hooks = crashOnce("afterCommit");
    const { queue, events, retrying } = await bullmq(new CreditConsumer(pool, hooks));
    const job = await queue.add(
      "credit-account",
      { accountId, amountCents: 400 },
      { ...retrying, jobId: `credit-${randomUUID()}` },
    );
    const outcome = (await job.waitUntilFinished(events, 10_000)) as Outcome;
    expect(hooks.calls, "the first attempt must have reached the point after its commit").toBeGreaterThanOrEqual(1);
    expect(outcome, "the retried delivery finds the claim and answers the original result").toEqual({
      status: "duplicate",
      result: { accountId, balanceCents: 1_400 },
    });
    expect((await queue.getJob(job.id!))?.attemptsMade).toBe(2);
    expect(await balanceOf(accountId), "credited once, although the job ran twice").toBe(1_400);
  });

  it("keeps one message id across a job's attempts: one inbox row per job, however often it runs", async () => {
    const accountId = await openAccount(0);
    const { queue, events, retrying } = await bullmq(new CreditConsumer(pool, crashOnce("afterCommit")));
    const before = await inboxRows();
    const job = await queue.add(
      "credit-account",
      { accountId, amountCents: 10 },
      { ...retrying, jobId: `credit-${randomUUID()}` },
    );
    expect(await job.waitUntilFinished(events, 10_000), "the second attempt finds the first one's claim").toMatchObject(
      { status: "duplicate" },
    );
    expect(
      await inboxRows(),
      "two attempts of one job are one message: a message id that changes per attempt applies it twice",
    ).toBe(before + 1);
  });

  it("tells apart auto-numbered jobs of two queues: job 1 of one queue is not job 1 of another", async () => {
    const accountId = await openAccount(0);
    const consumer = new CreditConsumer(pool);
    const payments = await bullmq(consumer);
    const refunds = await bullmq(consumer);
    const first = await payments.queue.add("credit-account", { accountId, amountCents: 10 }, payments.retrying);
    const second = await refunds.queue.add("credit-account", { accountId, amountCents: 20 }, refunds.retrying);
    expect([first.id, second.id], "BullMQ numbers the jobs of every queue 1, 2, 3, ...").toEqual(["1", "1"]);
    await expect(
      first.waitUntilFinished(payments.events, 10_000),
      "job 1 of a queue of its own is a new message (another test's job 1 was another queue's)",
    ).resolves.toMatchObject({ status: "applied" });
    await expect(
      second.waitUntilFinished(refunds.events, 10_000),
      "another queue's job 1 is another message: keyed by the bare job id, this credit would be answered 'duplicate' and lost",
    ).resolves.toMatchObject({ status: "applied" });
    expect(await balanceOf(accountId)).toBe(30);
  });

  it("tells apart auto-numbered jobs after the queue lost its keys and numbers from 1 again", async () => {
    const accountId = await openAccount(0);
    const { queue, events, retrying } = await bullmq(new CreditConsumer(pool));
    const first = await queue.add("credit-account", { accountId, amountCents: 10 }, retrying);
    await expect(
      first.waitUntilFinished(events, 10_000),
      "job 1 of a queue of its own is a new message (another test's job 1 was another queue's)",
    ).resolves.toMatchObject({ status: "applied" });
    while (Date.now() <= first.timestamp) await new Promise((resolve) => setImmediate(resolve));
    await queue.obliterate({ force: true }); // what a Redis restart without persistence does to a queue
    const second = await queue.add("credit-account", { accountId, amountCents: 20 }, retrying);
    expect(second.id, "the queue's counter started again").toBe(first.id);
    await expect(
      second.waitUntilFinished(events, 10_000),
      "a new job that happens to get an old number is a new message: the inbox must not answer it 'duplicate'",
    ).resolves.toMatchObject({ status: "applied" });
    expect(await balanceOf(accountId)).toBe(30);
  });

  it("recognises a request whose job the queue already removed: the same custom id is the same message", async () => {
    const accountId = await openAccount(0);
    const { queue, events, retrying } = await bullmq(new CreditConsumer(pool));
    // A custom id like the producer's, with digits at both ends: a custom id, not BullMQ's counter.
    const jobId = `7-credit-${randomUUID()}-7`;
    const first = await queue.add(
      "credit-account",
      { accountId, amountCents: 10 },
      { ...retrying, jobId, removeOnComplete: true },
    );
    await expect(first.waitUntilFinished(events, 10_000)).resolves.toMatchObject({ status: "applied" });
    expect(await queue.getJob(jobId), "BullMQ forgot the job, and with it the id").toBeUndefined();
    const retried = await queue.add("credit-account", { accountId, amountCents: 10 }, { ...retrying, jobId });
    await expect(
      retried.waitUntilFinished(events, 10_000),
      "the client retried the same request after the queue removed its job: the inbox still knows it",
    ).resolves.toMatchObject({ status: "duplicate" });
    expect(await balanceOf(accountId)).toBe(10);
  });

  it("fails an unknown account or a payload that breaks the contract without retrying", async () => {
    const { queue, events, retrying } = await bullmq(new CreditConsumer(pool));
    const unknown = await queue.add("credit-account", { accountId: "acc_nobody", amountCents: 10 }, retrying);
    await expect(unknown.waitUntilFinished(events, 10_000)).rejects.toThrow(/acc_nobody/);
    const broken = await queue.add("credit-account", { accountId: "acc_nobody", amountCents: "ten" }, retrying);
    await expect(broken.waitUntilFinished(events, 10_000)).rejects.toThrow();
    expect(
      (await queue.getJob(unknown.id!))?.attemptsMade,
      "UnknownAccountError is permanent: UnrecoverableError",
    ).toBe(1);
    expect((await queue.getJob(broken.id!))?.attemptsMade, "bad data stays bad: no retries").toBe(1);
  });
});
