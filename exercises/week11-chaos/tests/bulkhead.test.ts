import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { AimdLimit } from "../src/adaptive-limit";
import { Bulkhead } from "../src/bulkhead";
import { BulkheadFullError, QueueTimeoutError } from "../src/errors";
import { settle, testClock, type TestClock } from "./support/manual-clock";

/** Tasks that finish when the test says, recording the order they started in. */
function tasks() {
  const started: string[] = [];
  const finishers = new Map<string, { ok(): void; fail(): void }>();
  const task = (name: string) => () =>
    new Promise<string>((resolve, reject) => {
      started.push(name);
      finishers.set(name, { ok: () => resolve(name), fail: () => reject(new Error(`${name} failed`)) });
    });
  const finish = async (name: string, how: "ok" | "fail" = "ok") => {
    finishers.get(name)![how]();
    await settle();
  };
  return { started, task, finish };
}

/** A task that runs `ms` on the test clock. */
const sleeper = (clock: TestClock, ms: number) => () => new Promise<void>((resolve) => clock.setTimer(ms, resolve));

describe("a bulkhead: bounded concurrency and a bounded queue", () => {
  it("runs at most maxConcurrent tasks at once and starts the waiting ones in arrival order", async () => {
    const { started, task, finish } = tasks();
    const bulkhead = new Bulkhead({ maxConcurrent: 2, maxQueue: 10, queueTimeoutMs: 1_000, clock: testClock() });
    const results = ["a", "b", "c", "d"].map((name) => bulkhead.run(task(name)));
    await settle();
    expect(started, "two slots: two tasks run, the others wait").toEqual(["a", "b"]);
    expect([bulkhead.active, bulkhead.queued]).toEqual([2, 2]);
    await finish("b");
    expect(started, "a finished task hands its slot to the oldest waiter").toEqual(["a", "b", "c"]);
    await finish("a");
    await finish("c");
    await finish("d");
    expect(await Promise.all(results), "each caller gets its own task's result").toEqual(["a", "b", "c", "d"]);
    expect([bulkhead.active, bulkhead.queued]).toEqual([0, 0]);
  });

  it("refuses at once with BulkheadFullError when the queue is full, without running the task", async () => {
    const { started, task } = tasks();
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 2, queueTimeoutMs: 1_000, clock: testClock() });
    for (const name of ["a", "b", "c"]) void bulkhead.run(task(name)).catch(() => {});
    const refused = bulkhead.run(task("d")).then(
      () => "ran",
      (error: unknown) => error,
    );
    const outcome = await Promise.race([refused, settle().then(() => "still waiting")]);
    expect(
      outcome,
      "a full queue refuses at once: an unbounded queue only turns overload into latency and memory",
    ).toBeInstanceOf(BulkheadFullError);
    expect((outcome as BulkheadFullError).code).toBe("EBULKHEADFULL");
    expect(started, "the refused task never ran").not.toContain("d");
  });

  it("gives up on a task that waited queueTimeoutMs (QueueTimeoutError) and never runs it", async () => {
    const clock = testClock();
    const { started, task, finish } = tasks();
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 5, queueTimeoutMs: 200, clock });
    void bulkhead.run(task("a"));
    const waiting = bulkhead.run(task("b")).catch((error: unknown) => error);
    await clock.advance(199);
    expect(bulkhead.queued).toBe(1);
    await clock.advance(1);
    const error = await waiting;
    expect(error, "after queueTimeoutMs in the queue the caller is told, instead of waiting forever").toBeInstanceOf(
      QueueTimeoutError,
    );
    expect((error as QueueTimeoutError).code).toBe("EQUEUETIMEOUT");
    expect(bulkhead.queued, "and the task left the queue").toBe(0);
    await finish("a");
    expect(started, "a task that timed out in the queue must not run later").toEqual(["a"]);
  });

  it("cancels the queue timer of a task that got its slot in time", async () => {
    const clock = testClock();
    const { task, finish } = tasks();
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 5, queueTimeoutMs: 200, clock });
    void bulkhead.run(task("a"));
    const second = bulkhead.run(task("b"));
    await clock.advance(100);
    await finish("a");
    await clock.advance(500);
    await finish("b");
    expect(await second, "a task that started in time is not failed by its old queue timer").toBe("b");
    expect(clock.pendingTimers(), "no timer is left behind").toBe(0);
  });

  it("frees the slot of a task that fails, even one that throws synchronously", async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 0, queueTimeoutMs: 100, clock: testClock() });
    await expect(bulkhead.run(() => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await expect(
      bulkhead.run(() => {
        throw new Error("sync boom");
      }),
    ).rejects.toThrow("sync boom");
    expect(await bulkhead.run(async () => "still works"), "a leaked slot would refuse every call from now on").toBe(
      "still works",
    );
  });

  it("takes a task whose caller gave up (AbortSignal) out of the queue", async () => {
    const { started, task, finish } = tasks();
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 5, queueTimeoutMs: 10_000, clock: testClock() });
    void bulkhead.run(task("a"));
    const controller = new AbortController();
    const abandoned = bulkhead.run(task("b"), { signal: controller.signal }).catch((error: unknown) => error);
    controller.abort(new Error("client went away"));
    expect(await abandoned).toBeInstanceOf(Error);
    expect(bulkhead.queued).toBe(0);
    await finish("a");
    expect(started, "nobody waits for b any more: running it would waste a slot").toEqual(["a"]);
  });

  it("refuses a task whose signal is already aborted, and tells the limit each task's time and outcome", async () => {
    const clock = testClock();
    const samples: { latencyMs: number; failed: boolean }[] = [];
    const limit = { current: 2, onSample: (sample: { latencyMs: number; failed: boolean }) => samples.push(sample) };
    const bulkhead = new Bulkhead({ maxConcurrent: limit, maxQueue: 1, queueTimeoutMs: 1_000, clock });
    const aborted = AbortSignal.abort(new Error("gone already"));
    let ran = false;
    await expect(bulkhead.run(async () => (ran = true), { signal: aborted })).rejects.toThrow("gone already");
    expect(ran, "nobody waits for its answer: do not run it").toBe(false);
    const ok = bulkhead.run(() => new Promise<void>((resolve) => clock.setTimer(100, resolve)));
    const bad = bulkhead
      .run(() => new Promise<void>((_, reject) => clock.setTimer(250, () => reject(new Error("x")))))
      .catch(() => undefined);
    await clock.advance(250);
    await ok;
    await bad;
    expect(samples, "each sample is the task's own run time and whether it failed").toEqual([
      { latencyMs: 100, failed: false },
      { latencyMs: 250, failed: true },
    ]);
  });

  it("keeps arrival order when the limit grows while tasks wait: a newcomer never overtakes them", async () => {
    const { started, task, finish } = tasks();
    const limit = { current: 1, onSample: () => {} };
    const bulkhead = new Bulkhead({ maxConcurrent: limit, maxQueue: 5, queueTimeoutMs: 1_000, clock: testClock() });
    void bulkhead.run(task("a"));
    void bulkhead.run(task("b"));
    await settle();
    limit.current = 2;
    void bulkhead.run(task("c"));
    await settle();
    await finish("a");
    expect(
      started.slice(0, 3),
      "b has waited longest: letting c start first because a slot looked free is how a queue starves its oldest",
    ).toEqual(["a", "b", "c"]);
  });

  it("ignores an abort once the task has started: the caller gets the task's own result", async () => {
    const { started, task, finish } = tasks();
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 5, queueTimeoutMs: 1_000, clock: testClock() });
    void bulkhead.run(task("a"));
    const controller = new AbortController();
    const second = bulkhead.run(task("b"), { signal: controller.signal }).catch((error: unknown) => error);
    await finish("a");
    expect(started, "b got the slot a freed").toEqual(["a", "b"]);
    controller.abort(new Error("too late to cancel"));
    await finish("b");
    expect(
      await second,
      "the signal only takes a task out of the queue; a task that runs holds its slot until it ends, and answers",
    ).toBe("b");
  });

  it("leaves no listener on a long-lived signal once a task has left the queue, timed out or started", async () => {
    const clock = testClock();
    const { task, finish } = tasks();
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 5, queueTimeoutMs: 200, clock });
    // One signal for many calls, as a server passes its shutdown signal to every request.
    const shutdown = new AbortController();
    void bulkhead.run(task("a"));
    const late = bulkhead.run(task("b"), { signal: shutdown.signal }).catch((error: unknown) => error);
    await clock.advance(200);
    expect(await late).toBeInstanceOf(QueueTimeoutError);
    expect(
      getEventListeners(shutdown.signal, "abort"),
      "a task that timed out in the queue must remove its abort listener: on a signal that lives as long as the " +
        "server, every call would leave one behind",
    ).toHaveLength(0);
    const next = bulkhead.run(task("c"), { signal: shutdown.signal });
    await finish("a");
    expect(
      getEventListeners(shutdown.signal, "abort"),
      "a task that got its slot no longer listens either",
    ).toHaveLength(0);
    await finish("c");
    expect(await next).toBe("c");
  });

  it("says how long a task waited when its queue timeout ran out", async () => {
    const clock = testClock();
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 1, queueTimeoutMs: 200, clock });
    void bulkhead.run(() => new Promise(() => {}));
    const waited = bulkhead.run(async () => "never").catch((error: unknown) => error);
    await clock.advance(200);
    expect(((await waited) as QueueTimeoutError).waitedMs).toBe(200);
  });

  it("rejects a limit or a queue that makes no sense with RangeError", () => {
    expect(() => new Bulkhead({ maxConcurrent: 0, maxQueue: 1, queueTimeoutMs: 1 })).toThrow(RangeError);
    expect(() => new Bulkhead({ maxConcurrent: 1, maxQueue: -1, queueTimeoutMs: 1 })).toThrow(RangeError);
    expect(() => new Bulkhead({ maxConcurrent: 1, maxQueue: 1, queueTimeoutMs: 0 })).toThrow(RangeError);
    expect(
      () => new Bulkhead({ maxConcurrent: 1, maxQueue: 0, queueTimeoutMs: 1 }),
      "a bulkhead without a queue is fine",
    ).not.toThrow();
  });
});

describe("an adaptive limit (AIMD)", () => {
  const limit = (overrides: Partial<ConstructorParameters<typeof AimdLimit>[0]> = {}) =>
    new AimdLimit({ initial: 4, min: 1, max: 8, latencyThresholdMs: 100, backoffRatio: 0.5, ...overrides });

  it("grows by one after `current` fast samples in a row, up to max", () => {
    const aimd = limit();
    for (let i = 0; i < 3; i++) aimd.onSample({ latencyMs: 10, failed: false });
    expect(aimd.current, "3 good samples at a limit of 4 are not yet a full round").toBe(4);
    aimd.onSample({ latencyMs: 10, failed: false });
    expect(aimd.current, "additive increase: +1 per round of `current` good samples").toBe(5);
    for (let i = 0; i < 100; i++) aimd.onSample({ latencyMs: 10, failed: false });
    expect(aimd.current, "never above max").toBe(8);
  });

  it("shrinks multiplicatively when latency rises above the threshold or a task fails, never below min", () => {
    const aimd = limit({ initial: 8 });
    aimd.onSample({ latencyMs: 250, failed: false });
    expect(aimd.current, "a slow sample halves the limit (backoffRatio 0.5)").toBe(4);
    aimd.onSample({ latencyMs: 5, failed: true });
    expect(aimd.current, "a failure counts as overload too").toBe(2);
    for (let i = 0; i < 5; i++) aimd.onSample({ latencyMs: 500, failed: false });
    expect(aimd.current, "never below min").toBe(1);
    aimd.onSample({ latencyMs: 10, failed: false });
    expect(aimd.current, "and it grows back from there").toBe(2);
  });

  it("counts a sample exactly at the threshold as good, and never goes below 1 without a min", () => {
    const aimd = new AimdLimit({ initial: 1, max: 4, latencyThresholdMs: 100 });
    aimd.onSample({ latencyMs: 100, failed: false });
    expect(aimd.current, "at the threshold is not above it").toBe(2);
    for (let i = 0; i < 5; i++) aimd.onSample({ latencyMs: 101, failed: false });
    expect(aimd.current, "min defaults to 1").toBe(1);
  });

  it("rejects bounds that make no sense with RangeError", () => {
    expect(() => limit({ initial: 0 })).toThrow(RangeError);
    expect(() => limit({ initial: 9 }), "initial above max").toThrow(RangeError);
    expect(() => limit({ backoffRatio: 1 }), "a decrease that does not decrease").toThrow(RangeError);
    expect(() => limit({ latencyThresholdMs: 0 })).toThrow(RangeError);
    expect(() => limit({ backoffRatio: 0 }), "a decrease to nothing").toThrow(RangeError);
    expect(() => limit({ min: 0 })).toThrow(RangeError);
    expect(() => limit({ initial: 2, max: 1, min: 1 }), "max below initial").toThrow(RangeError);
    expect(() => limit({ initial: 1.5 })).toThrow(RangeError);
  });

  it("drives a bulkhead: when tasks slow down it starts fewer of them at once", async () => {
    const clock = testClock();
    const aimd = limit({ initial: 4, latencyThresholdMs: 100 });
    const bulkhead = new Bulkhead({ maxConcurrent: aimd, maxQueue: 100, queueTimeoutMs: 60_000, clock });
    let running = 0;
    const peaks: number[] = [];
    const slow = () => {
      running++;
      peaks.push(running);
      return sleeper(clock, 300)().finally(() => running--);
    };
    const all = Array.from({ length: 12 }, () => bulkhead.run(slow));
    await settle();
    expect(running, "it starts with the initial limit").toBe(4);
    await clock.advance(300);
    expect(bulkhead.limit, "four slow samples in a row cut the limit down to min").toBe(1);
    expect(running, "only as many tasks run as the shrunken limit allows").toBe(1);
    await clock.advance(3_000);
    await Promise.all(all);
    expect(Math.max(...peaks.slice(4)), "after the cut, never more than the new limit at once").toBe(1);
  });
});
