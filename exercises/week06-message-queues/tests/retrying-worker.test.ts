import { Queue, QueueEvents, UnrecoverableError, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_START_MS } from "#fixtures/clock";
import { seededRandom } from "#fixtures/random";
import { useRedis } from "#fixtures/redis";
import type { CommandPayload } from "../src/contract";
import {
  backoffDelayMs,
  classifyFailure,
  parseRetryAfter,
  retryDelayMs,
  UpstreamError,
  type RetryPolicy,
} from "../src/retry-policy";
import { retryJobOptions, startRetryingWorker, type CommandHandlers, type DeadLetter } from "../src/retrying-worker";

const redis = useRedis();
const prefix = redis.prefix.slice(0, -1);

let connection: Redis | undefined;
const shared = () => (connection ??= redis.rawClient({ maxRetriesPerRequest: null }));
const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  // Workers first: a queue closed under a running worker's dead-lettering would fail it.
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

const noJitter: RetryPolicy = { attempts: 5, baseDelayMs: 100, maxDelayMs: 10_000, jitter: 0 };
// Real BullMQ retries go through its delayed set: keep the delays small, the test asserts counts, not time.
const fast: RetryPolicy = { attempts: 3, baseDelayMs: 20, maxDelayMs: 1_000, jitter: 0.5 };
const charge: CommandPayload<"charge-card"> = { orderId: "ord_8f3k2m9q", amountCents: 1999, currency: "EUR" };
const now = DEFAULT_START_MS;

describe("computes exponential backoff with jitter", () => {
  it("doubles the delay with every attempt: base, 2×base, 4×base, …", () => {
    const delays = [1, 2, 3, 4, 5].map((attemptsMade) => backoffDelayMs(attemptsMade, noJitter, () => 0.5));
    expect(delays, "after the first failure wait baseDelayMs, then double each time").toEqual([
      100, 200, 400, 800, 1600,
    ]);
  });

  it("never exceeds maxDelayMs, however many attempts were made", () => {
    const capped = { ...noJitter, maxDelayMs: 1_000 };
    for (const attemptsMade of [5, 11, 60, 2_000]) {
      expect(
        backoffDelayMs(attemptsMade, capped, () => 0),
        `attempt ${attemptsMade} must be capped, not Infinity or NaN`,
      ).toBe(1_000);
    }
    expect(
      backoffDelayMs(2_000, { ...capped, baseDelayMs: 0 }, () => 0),
      "a zero base is a zero delay, not NaN",
    ).toBe(0);
  });

  it("with jitter j, spreads delays over [(1 − j)·ceiling, ceiling] and uses the injected randomness", () => {
    const policy = { ...noJitter, jitter: 0.5 };
    expect(
      backoffDelayMs(3, policy, () => 0),
      "random() = 0 takes nothing away",
    ).toBe(400);
    expect(
      backoffDelayMs(3, policy, () => 0.999_999),
      "random() near 1 takes away almost j of the ceiling",
    ).toBeCloseTo(200, -1);
    const random = seededRandom(42);
    const draws = Array.from({ length: 200 }, () => backoffDelayMs(3, policy, random));
    for (const delay of draws) {
      expect(Number.isInteger(delay), "BullMQ delays are whole milliseconds").toBe(true);
      expect(delay).toBeGreaterThanOrEqual(200);
      expect(delay).toBeLessThanOrEqual(400);
    }
    expect(new Set(draws).size, "jitter exists to spread jobs that failed together").toBeGreaterThan(50);
    const full = Array.from({ length: 200 }, () => backoffDelayMs(3, { ...policy, jitter: 1 }, random));
    expect(Math.min(...full), "full jitter (j = 1) reaches down towards 0").toBeLessThan(40);
  });
});

const LONG_WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
/** The three HTTP-date forms of RFC 9110 section 5.6.7, built from Date's own IMF-fixdate. */
function httpDates(at: Date): { imf: string; rfc850: string; asctime: string } {
  const imf = at.toUTCString(); // "Thu, 01 Jan 2026 00:01:30 GMT"
  const [weekday, day, month, year, time] = imf.replace(",", "").split(" ") as [string, string, string, string, string];
  return {
    imf,
    rfc850: `${LONG_WEEKDAYS[at.getUTCDay()]}, ${day}-${month}-${year.slice(2)} ${time} GMT`,
    asctime: `${weekday} ${month} ${String(Number(day)).padStart(2, " ")} ${time} ${year}`,
  };
}

describe("honours Retry-After from a rate-limited upstream", () => {
  const inSeconds = (s: number) => new Date(now + s * 1000).toUTCString();

  it("reads delay-seconds", () => {
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter("0", now)).toBe(0);
    expect(parseRetryAfter(" 120 ", now), "whitespace around a field value is not part of it").toBe(120_000);
  });

  it("reads an HTTP-date in the preferred IMF-fixdate form, and a date in the past means now", () => {
    expect(inSeconds(90), "the test's own date must be IMF-fixdate").toBe("Thu, 01 Jan 2026 00:01:30 GMT");
    expect(parseRetryAfter(inSeconds(90), now)).toBe(90_000);
    expect(parseRetryAfter(inSeconds(-30), now), "a date already past means: retry now").toBe(0);
  });

  it("reads the two obsolete HTTP-date forms every recipient must accept (RFC 850 and asctime)", () => {
    expect(parseRetryAfter("Thursday, 01-Jan-26 00:00:45 GMT", now)).toBe(45_000);
    expect(parseRetryAfter("Thu Jan  1 00:00:30 2026", now), "asctime pads the day with a space and is UTC").toBe(
      30_000,
    );
    expect(
      parseRetryAfter("Friday, 01-Jan-99 00:00:00 GMT", now),
      "a two-digit year more than 50 years ahead is the previous century: 1999, long past, so 0",
    ).toBe(0);
  });

  it("reads every month and weekday in all three forms", () => {
    // 29 days apart: each date moves one weekday on, and thirteen of them cross every month.
    const dates = Array.from({ length: 13 }, (_, i) => new Date(Date.UTC(2026, 0, 1 + i * 29, 12, 34, 59)));
    expect(new Set(dates.map((d) => d.getUTCDay())).size, "the table covers all seven weekdays").toBe(7);
    expect(new Set(dates.map((d) => d.getUTCMonth())).size, "the table covers all twelve months").toBe(12);
    for (const at of dates) {
      const expected = at.getTime() - now;
      for (const [form, value] of Object.entries(httpDates(at))) {
        expect(parseRetryAfter(value, now), `${form}: ${JSON.stringify(value)}`).toBe(expected);
      }
    }
  });

  it("reads a two-digit RFC 850 year as at most 50 years ahead", () => {
    const fiftyYearsAhead = new Date(Date.UTC(2076, 0, 1));
    expect(parseRetryAfter(httpDates(fiftyYearsAhead).rfc850, now), "2076 is not more than 50 years after 2026").toBe(
      fiftyYearsAhead.getTime() - now,
    );
  });

  it("ignores values that are not a Retry-After at all", () => {
    for (const value of [
      "-5",
      "1.5",
      "soon",
      "",
      "30 seconds",
      "Thu, 32 Jan 2026 00:00:00 GMT",
      "Sat, 31 Feb 2026 00:00:00 GMT",
      "Thu, 01 Jan 2026 24:00:00 GMT",
      "Thu, 01 Jan 2026 12:60:00 GMT",
      "Thu, 01 Jan 2026 00:00:30 UTC",
    ]) {
      expect(
        parseRetryAfter(value, now),
        `${JSON.stringify(value)} is neither delay-seconds nor an HTTP-date`,
      ).toBeUndefined();
    }
  });

  it("waits exactly what the upstream asked, whatever the attempt and the jitter", () => {
    const slowDown = new UpstreamError(429, "slow down", "7");
    const polite = { ...noJitter, jitter: 0.5 };
    expect(
      retryDelayMs(1, slowDown, polite, () => 0.9, now),
      "Retry-After replaces the backoff",
    ).toBe(7_000);
    expect(retryDelayMs(4, slowDown, polite, () => 0.1, now)).toBe(7_000);
    expect(
      retryDelayMs(2, new UpstreamError(503, "maintenance", new Date(now + 5_000).toUTCString()), polite, () => 0, now),
    ).toBe(5_000);
  });

  it("gives up (-1) when the upstream asks for a longer wait than the policy allows", () => {
    const error = new UpstreamError(503, "maintenance", "3600");
    expect(
      retryDelayMs(1, error, noJitter, () => 0, now),
      "retrying earlier only spends an attempt on a certain refusal",
    ).toBe(-1);
    expect(
      retryDelayMs(1, new UpstreamError(429, "slow down", "10"), noJitter, () => 0, now),
      "exactly maxDelayMs is still allowed",
    ).toBe(10_000);
  });

  it("falls back to the exponential backoff without a usable Retry-After", () => {
    expect(retryDelayMs(3, new UpstreamError(429, "slow down"), noJitter, () => 0, now)).toBe(400);
    expect(retryDelayMs(3, new UpstreamError(429, "slow down", "whenever"), noJitter, () => 0, now)).toBe(400);
    expect(retryDelayMs(2, new Error("socket hang up"), noJitter, () => 0, now)).toBe(200);
  });
});

describe("tells permanent failures from transient ones", () => {
  it("a 4xx is permanent: the same request will be refused again", () => {
    for (const status of [400, 401, 403, 404, 409, 422]) {
      expect(classifyFailure(new UpstreamError(status, `status ${status}`)), `HTTP ${status}`).toBe("permanent");
    }
    expect(classifyFailure(new UnrecoverableError("card declined"))).toBe("permanent");
  });

  it("timeouts, rate limits, 5xx and unknown errors are transient", () => {
    for (const status of [408, 425, 429, 500, 502, 503, 504]) {
      expect(classifyFailure(new UpstreamError(status, `status ${status}`)), `HTTP ${status}`).toBe("transient");
    }
    expect(classifyFailure(new Error("ECONNRESET")), "a network error may pass on the next try").toBe("transient");
    expect(classifyFailure("a thrown string")).toBe("transient");
  });

  it("retryJobOptions gives jobs the policy's attempts and the worker's custom backoff", () => {
    const options = retryJobOptions(fast);
    expect(options.attempts).toBe(3);
    expect(options.backoff, "a built-in type ('exponential') would bypass the worker's backoffStrategy").toMatchObject({
      type: expect.not.stringMatching(/^(fixed|exponential)$/),
    });
  });

  it("refuses a nonsensical policy with a RangeError naming the field, and accepts the edge values", () => {
    const refused: [Partial<RetryPolicy>, RegExp][] = [
      [{ attempts: 0 }, /attempts/],
      [{ attempts: 2.5 }, /attempts/],
      [{ baseDelayMs: -1 }, /baseDelayMs/],
      [{ baseDelayMs: Number.NaN }, /baseDelayMs/],
      [{ maxDelayMs: 10 }, /maxDelayMs/],
      [{ maxDelayMs: Number.POSITIVE_INFINITY }, /maxDelayMs/],
      [{ jitter: -0.1 }, /jitter/],
      [{ jitter: 1.5 }, /jitter/],
      [{ jitter: Number.NaN }, /jitter/],
    ];
    for (const [change, field] of refused) {
      expect(() => retryJobOptions({ ...fast, ...change }), JSON.stringify(change)).toThrow(RangeError);
      expect(() => retryJobOptions({ ...fast, ...change }), "say which setting is wrong").toThrow(field);
    }
    const edges: Partial<RetryPolicy>[] = [
      { attempts: 1 },
      { baseDelayMs: 0 },
      { maxDelayMs: fast.baseDelayMs },
      { jitter: 0 },
      { jitter: 1 },
    ];
    for (const change of edges)
      expect(() => retryJobOptions({ ...fast, ...change }), JSON.stringify(change)).not.toThrow();
  });
});

let queues = 0;
async function harness(handlers: CommandHandlers, policy: RetryPolicy = fast, random: () => number = seededRandom(7)) {
  const queueName = `charges-${++queues}`;
  const deadLetterQueue = `${queueName}-dead`;
  const queue = new Queue(queueName, { connection: shared(), prefix });
  const deadLetters = new Queue<DeadLetter>(deadLetterQueue, { connection: shared(), prefix });
  const events = new QueueEvents(queueName, { connection: redis.rawClient({ maxRetriesPerRequest: null }), prefix });
  opened.push(queue, deadLetters, events);
  await events.waitUntilReady();
  const retrying = startRetryingWorker({
    queueName,
    connection: shared(),
    prefix,
    handlers,
    policy,
    deadLetterQueue,
    random,
    onError: () => {},
  });
  opened.push(retrying);
  const add = (data: unknown, jobId?: string) => queue.add("charge-card", data, { ...retryJobOptions(policy), jobId });
  const finished = (job: Job) => job.waitUntilFinished(events, 10_000);
  /**
   * The dead letters, after the worker stopped and finished any dead-lettering in flight. Nobody
   * consumes the dead-letter queue, so a letter waits there: plain, with a priority or a delay.
   */
  const lettersAfterClose = async () => {
    await retrying.close();
    return (await deadLetters.getJobs(["waiting", "prioritized", "delayed"])).map((job) => job.data);
  };
  return { queueName, queue, events, worker: retrying.worker, add, finished, lettersAfterClose };
}

describe("retries through BullMQ", () => {
  it("retries a transient failure and completes on a later attempt, with attemptsMade counting every try", async () => {
    const seen: number[] = [];
    const h = await harness({
      "charge-card": async (_payload, job) => {
        seen.push(job.attemptsMade);
        if (job.attemptsMade < 2) throw new UpstreamError(503, `provider unavailable (try ${job.attemptsMade + 1})`);
        return { charged: true };
      },
    });
    const job = await h.add(charge, "charge-transient");
    await expect(h.finished(job), "two 503s then a success must complete the job").resolves.toEqual({ charged: true });
    expect(seen, "the handler runs once per attempt").toEqual([0, 1, 2]);
    expect((await h.queue.getJob(job.id!))?.attemptsMade).toBe(3);
    expect(await h.lettersAfterClose(), "a job that succeeded is never dead-lettered").toEqual([]);
  });

  it("does not retry a permanent failure: one attempt, and the upstream's reason as failedReason", async () => {
    let calls = 0;
    const h = await harness({
      "charge-card": async () => {
        calls += 1;
        throw new UpstreamError(404, "card token not found");
      },
    });
    const job = await h.add(charge, "charge-404");
    await expect(h.finished(job)).rejects.toThrow("card token not found");
    const failed = await h.queue.getJob(job.id!);
    expect(failed?.attemptsMade, "a 404 will be a 404 again: retrying wastes the upstream's and our time").toBe(1);
    expect(failed?.failedReason).toBe("card token not found");
    expect(calls).toBe(1);
  });

  it("refuses a job whose payload breaks the contract without calling the handler or retrying", async () => {
    let calls = 0;
    const h = await harness({
      "charge-card": async () => {
        calls += 1;
      },
    });
    const job = await h.add({ orderId: "ord_8f3k2m9q", amountCents: -5, currency: "EUR" }, "charge-bad-payload");
    await expect(h.finished(job)).rejects.toThrow(/amountCents/);
    expect(calls, "a queue is a trust boundary: validate before acting").toBe(0);
    expect((await h.queue.getJob(job.id!))?.attemptsMade, "bad data stays bad: no retries").toBe(1);
  });

  it("waits the Retry-After the upstream asked for before the next attempt", async () => {
    const h = await harness(
      {
        "charge-card": async (_payload, job) => {
          if (job.attemptsMade === 0) throw new UpstreamError(429, "slow down", "30");
          return "charged";
        },
      },
      { ...fast, maxDelayMs: 60_000 },
    );
    const delayed = new Promise<void>((resolve) => {
      h.events.on("delayed", ({ jobId }) => {
        if (jobId === "charge-429") resolve();
      });
    });
    const job = await h.add(charge, "charge-429");
    await delayed;
    const waiting = await h.queue.getJob(job.id!);
    expect(waiting?.delay, "Retry-After: 30 means a delay of 30 000 ms, not the 20 ms backoff").toBe(30_000);
    await waiting!.promote(); // the test does not wait 30 s: it checks the delay, then runs the job now
    await expect(h.finished(job)).resolves.toBe("charged");
    expect((await h.queue.getJob(job.id!))?.attemptsMade).toBe(2);
  });

  it("delays a retry by the policy's backoff, with the injected randomness as jitter", async () => {
    const h = await harness(
      {
        "charge-card": async (_payload, job) => {
          if (job.attemptsMade === 0) throw new UpstreamError(503, "provider unavailable");
          return "charged";
        },
      },
      { attempts: 2, baseDelayMs: 40_000, maxDelayMs: 60_000, jitter: 0.5 },
      () => 0.5,
    );
    const delayed = new Promise<void>((resolve) => {
      h.events.on("delayed", ({ jobId }) => {
        if (jobId === "charge-backoff") resolve();
      });
    });
    const job = await h.add(charge, "charge-backoff");
    await delayed;
    const waiting = await h.queue.getJob(job.id!);
    expect(
      waiting?.delay,
      "40 000 ms ceiling minus 0.5 × 0.5 of it: the worker's backoffStrategy with the injected random",
    ).toBe(30_000);
    await waiting!.promote();
    await expect(h.finished(job)).resolves.toBe("charged");
  });

  it("fails at once a job whose name is not a command, or a command this worker has no handler for", async () => {
    const h = await harness({ "charge-card": async () => "charged" });
    const unknown = await h.queue.add("refund-everything", charge, retryJobOptions(fast));
    const receipt = { orderId: "ord_8f3k2m9q", email: "ada@example.com", totalCents: 1 };
    const unhandled = await h.queue.add("send-receipt", receipt, retryJobOptions(fast));
    await expect(h.finished(unknown)).rejects.toThrow(/refund-everything/);
    await expect(h.finished(unhandled)).rejects.toThrow(/send-receipt/);
    expect((await h.queue.getJob(unknown.id!))?.attemptsMade, "no retry will make an unknown command known").toBe(1);
    expect((await h.queue.getJob(unhandled.id!))?.attemptsMade).toBe(1);
  });

  it("fails at once when the upstream asks for a longer wait than the policy allows, and dead-letters the job", async () => {
    const h = await harness({
      "charge-card": async () => {
        throw new UpstreamError(503, "down for maintenance", "3600");
      },
    });
    const job = await h.add(charge, "charge-maintenance");
    await expect(h.finished(job)).rejects.toThrow("down for maintenance");
    expect(
      (await h.queue.getJob(job.id!))?.attemptsMade,
      "an hour is beyond maxDelayMs: give up instead of holding the job",
    ).toBe(1);
    const letters = await h.lettersAfterClose();
    expect(
      letters.map((letter) => letter.jobId),
      "the backoff strategy gave up (-1) on a transient error with attempts left: only BullMQ's verdict, not the handler, knows the job is dead",
    ).toEqual([job.id]);
    expect(letters[0]!.failures.map((f) => f.reason)).toEqual(["down for maintenance"]);
  });
});

describe("dead-letters jobs that will not be retried", () => {
  it("moves a job that exhausted its attempts to the dead-letter queue with its whole failure history", async () => {
    const h = await harness({
      "charge-card": async (_payload, job) => {
        // The handler logs too: the history must keep only the failure records.
        await job.log("calling the payment provider");
        await job.log(JSON.stringify({ step: "authorize", attempt: "n/a" }));
        throw new UpstreamError(500, `upstream 500 on attempt ${job.attemptsMade + 1}`);
      },
    });
    const job = await h.add(charge, "charge-exhausted");
    await expect(h.finished(job)).rejects.toThrow("upstream 500 on attempt 3");
    const letters = await h.lettersAfterClose();
    expect(letters, "exactly one dead letter, written only when the last attempt failed").toHaveLength(1);
    const letter = letters[0]!;
    expect(letter).toMatchObject({
      jobId: "charge-exhausted",
      name: "charge-card",
      data: charge,
      attemptsMade: 3,
      failedReason: "upstream 500 on attempt 3",
    });
    expect(
      letter.failures.map(({ attempt, reason }) => ({ attempt, reason })),
      "an operator needs every attempt's reason, oldest first, to decide on a replay",
    ).toEqual([1, 2, 3].map((attempt) => ({ attempt, reason: `upstream 500 on attempt ${attempt}` })));
    for (const failure of letter.failures)
      expect(Number.isNaN(Date.parse(failure.at)), "`at` is an ISO-8601 time").toBe(false);
  });

  it("dead-letters a permanent failure after its single attempt", async () => {
    const h = await harness({
      "charge-card": async () => {
        throw new UnrecoverableError("card reported stolen");
      },
    });
    const job = await h.add(charge, "charge-stolen");
    await expect(h.finished(job)).rejects.toThrow("card reported stolen");
    const letters = await h.lettersAfterClose();
    expect(letters, "a permanent failure is dead after one attempt: one letter").toHaveLength(1);
    expect(letters[0]).toMatchObject({ jobId: "charge-stolen", attemptsMade: 1, failedReason: "card reported stolen" });
    expect(letters[0]!.failures.map((f) => f.reason)).toEqual(["card reported stolen"]);
  });

  it(
    "dead-letters a job that BullMQ failed for stalling too often, although the handler never saw that attempt",
    { timeout: 30_000 },
    async () => {
      let calls = 0;
      const h = await harness({
        "charge-card": async () => {
          calls += 1;
          return "charged";
        },
      });
      await h.worker.pause(true); // so that the job goes to the worker that dies with it
      const job = await h.add(charge, "charge-stalled");
      // A worker takes the job by hand and dies with it: its 200 ms lock is never renewed.
      const doomed = new Worker(h.queueName, null, { connection: shared(), prefix, autorun: false, lockDuration: 200 });
      opened.push(doomed);
      expect((await doomed.getNextJob("doomed-worker", { block: false }))?.id).toBe(job.id);
      // Another worker's stalled-job check, one that fails a job at its first stall.
      const stalled = new Promise<void>((resolve) => {
        h.events.on("stalled", ({ jobId }) => {
          if (jobId === job.id) resolve();
        });
      });
      const checker = new Worker(h.queueName, null, {
        connection: shared(),
        prefix,
        autorun: false,
        stalledInterval: 100,
        maxStalledCount: 0,
      });
      opened.push(checker);
      void checker.startStalledCheckTimer();
      await within(stalled, 10_000, "BullMQ's stalled-job check noticing the job of the dead worker");
      // BullMQ 6 fails such a job when a worker next fetches it: that worker emits 'failed' and never calls the handler.
      await h.worker.resume();
      await expect(h.finished(job)).rejects.toThrow(/stalled/);
      expect(calls, "BullMQ failed the job itself, without running it again").toBe(0);
      const letters = await h.lettersAfterClose();
      expect(
        letters.map((letter) => letter.jobId),
        "a job that stalled to death is as dead as one that failed: the operator must see it",
      ).toEqual([job.id]);
      const letter = letters[0]!;
      expect(letter.failedReason).toMatch(/stalled/);
      expect(
        letter.failures.at(-1)?.reason,
        "the history ends with the attempt that killed the job, although no handler logged it",
      ).toBe(letter.failedReason);
      expect(letter.failures.at(-1)?.attempt).toBe(letter.attemptsMade);
    },
  );

  it("dead-letters auto-numbered jobs too, although BullMQ refuses integer custom ids", async () => {
    const h = await harness(
      {
        "charge-card": async () => {
          throw new UpstreamError(502, "bad gateway");
        },
      },
      { ...fast, attempts: 2 },
    );
    const job = await h.add(charge);
    expect(job.id, "this job's id is BullMQ's own counter").toMatch(/^\d+$/);
    await expect(h.finished(job)).rejects.toThrow("bad gateway");
    const letters = await h.lettersAfterClose();
    expect(
      letters.map((letter) => letter.jobId),
      "the dead letter must still name its job",
    ).toEqual([job.id]);
  });
});
