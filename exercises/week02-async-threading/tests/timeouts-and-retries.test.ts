import { getEventListeners } from "node:events";
import { describe, expect, it, vi } from "vitest";
import { seededRandom } from "#fixtures/random";
import { type RetryPolicy, retry, sleep as abortableSleep, withTimeout } from "../src/timeouts-and-retries";

/** Ref'd timers alive in this process right now. */
const activeTimeouts = () => process.getActiveResourcesInfo().filter((resource) => resource === "Timeout").length;
const never = () => new Promise<never>(() => {});
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
const realDelay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe("timeouts-and-retries: withTimeout races the work against a deadline", () => {
  it("resolves with the work's value when the work finishes before the deadline", async () => {
    await expect(withTimeout(async () => "done", 5_000)).resolves.toBe("done");
  });

  it("rejects with a TimeoutError DOMException when the deadline passes first, even if the work ignores its signal", async () => {
    const error = await withTimeout(never, 20).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(error, "the same error AbortSignal.timeout() produces, so callers can check one name").toBeInstanceOf(
      DOMException,
    );
    expect((error as DOMException).name).toBe("TimeoutError");
  });

  it("aborts the signal handed to the work at the deadline, with the TimeoutError as its reason", async () => {
    let seen: AbortSignal | undefined;
    const error = await withTimeout((signal) => {
      seen = signal;
      return never();
    }, 20).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(
      seen?.aborted,
      "the work must be told to stop, or it keeps using sockets and CPU after nobody waits for it",
    ).toBe(true);
    expect(seen?.reason, "the work and the caller see the same reason").toBe(error);
  });

  it("rejects with the caller's own abort reason, the very same object, when the caller aborts first", async () => {
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const running = withTimeout(
      (signal) => {
        seen = signal;
        return never();
      },
      60_000,
      { signal: controller.signal },
    );
    const reason = new Error("client went away");

    controller.abort(reason);

    await expect(running, "the reason tells a shutdown from a timeout; wrapping it loses that").rejects.toBe(reason);
    expect(seen?.reason, "the work's signal carries the caller's reason too").toBe(reason);
  });

  it("rejects at once with an already-aborted signal's reason, without calling the work", async () => {
    const reason = new Error("cancelled before start");
    const work = vi.fn(async () => "never called");
    const order: string[] = [];

    const running = withTimeout(work, 60_000, { signal: AbortSignal.abort(reason) });
    running.then(
      () => order.push("resolved"),
      (error: unknown) => order.push(error === reason ? "rejected with the reason" : "rejected with something else"),
    );
    setImmediate(() => order.push("next macrotask"));
    await flush();
    await flush();

    expect(order[0], "the rejection is settled before any timer or I/O turn").toBe("rejected with the reason");
    expect(work, "starting work that is already cancelled wastes it").not.toHaveBeenCalled();
  });

  it("passes the work's own rejection through unchanged, and turns a synchronous throw into a rejection", async () => {
    const failure = new Error("database said no");
    await expect(withTimeout(() => Promise.reject(failure), 5_000)).rejects.toBe(failure);

    const thrown = new TypeError("thrown before the first await");
    const running = withTimeout(() => {
      throw thrown;
    }, 5_000);
    await expect(running, "a promise-returning function has one failure channel").rejects.toBe(thrown);
  });

  it("clears its timer as soon as the work settles, so no Timeout stays active", async () => {
    const baseline = activeTimeouts();

    await withTimeout(async () => "fast", 60_000);
    expect(activeTimeouts(), "after a success the deadline's timer is gone (clearTimeout)").toBe(baseline);
    await withTimeout(() => Promise.reject(new Error("fast failure")), 60_000).catch(() => {});
    expect(activeTimeouts(), "after a failure too: a service doing 1000 calls/s would hold 60 000 timers").toBe(
      baseline,
    );
  });

  it("never aborts the work's signal after the work has succeeded, even once the deadline has passed", async () => {
    let seen: AbortSignal | undefined;
    await withTimeout(async (signal) => {
      seen = signal;
      return "ok";
    }, 10);

    await realDelay(60); // past the deadline: nothing may happen now

    expect(
      seen?.aborted,
      "a result may still use the signal (a response body being read): a deadline that fires after success breaks it. " +
        "AbortSignal.timeout() cannot be cancelled, so build the deadline from a timer you clear",
    ).toBe(false);
  });

  it("leaves no abort listener on the caller's long-lived signal after many calls", async () => {
    const controller = new AbortController();
    for (let call = 0; call < 50; call++) await withTimeout(async () => call, 60_000, { signal: controller.signal });
    await withTimeout(() => Promise.reject(new Error("x")), 60_000, { signal: controller.signal }).catch(() => {});

    expect(
      getEventListeners(controller.signal, "abort"),
      "one listener per call on a process-wide signal is a memory leak (AbortSignal.any() avoids it)",
    ).toHaveLength(0);
  });

  it("rejects a negative or NaN deadline with RangeError, and accepts a zero deadline", async () => {
    await expect(withTimeout(async () => 1, -1)).rejects.toBeInstanceOf(RangeError);
    await expect(withTimeout(async () => 1, Number.NaN)).rejects.toBeInstanceOf(RangeError);
    await expect(
      withTimeout(async () => 1, 0),
      "work that is already done beats a deadline that has not fired yet",
    ).resolves.toBe(1);
  });

  it("rejects a deadline longer than setTimeout can hold (2^31 − 1 ms) with RangeError, instead of timing out at once", async () => {
    const work = vi.fn(async () => {
      await realDelay(20);
      return "done in 20 ms";
    });
    const outcome = await withTimeout(work, 2 ** 31).then(
      (value) => value,
      (error: unknown) => error,
    );
    expect(
      outcome,
      "setTimeout fires a delay over 2 147 483 647 ms after 1 ms (TimeoutOverflowWarning), so a 25-day deadline would time out at once",
    ).toBeInstanceOf(RangeError);
    expect(work, "the work does not start under a deadline that cannot be kept").not.toHaveBeenCalled();
    await expect(
      withTimeout(async () => "ok", 2 ** 31 - 1),
      "the largest delay a timer holds is fine",
    ).resolves.toBe("ok");
  });
});

/** A sleep that only records: the backoff schedule is checked without waiting for it. */
function recordingSleep() {
  const delays: number[] = [];
  const sleep = async (ms: number) => {
    delays.push(ms);
  };
  return { delays, sleep };
}

/** Fails the first `failures` attempts with a fresh error each, then returns "ok". */
function flaky(failures: number) {
  const errors: Error[] = [];
  const attempts: number[] = [];
  const fn = async (attempt: number) => {
    attempts.push(attempt);
    if (attempts.length <= failures) {
      const error = new Error(`attempt ${attempt} failed`);
      errors.push(error);
      throw error;
    }
    return "ok";
  };
  return { fn, errors, attempts };
}

const policy = (overrides: Partial<RetryPolicy> = {}): RetryPolicy => ({
  maxAttempts: 5,
  baseDelayMs: 100,
  maxDelayMs: 1_000,
  random: () => 0.5,
  ...overrides,
});

describe("timeouts-and-retries: retry with capped exponential backoff and full jitter", () => {
  it("returns the first success, calling fn again after each failure with the 1-based attempt number", async () => {
    const { fn, attempts } = flaky(2);
    const { delays, sleep } = recordingSleep();

    await expect(retry(fn, policy({ sleep }))).resolves.toBe("ok");

    expect(attempts).toEqual([1, 2, 3]);
    expect(delays, "one backoff between each pair of attempts").toHaveLength(2);
  });

  it("gives up after maxAttempts and rejects with the last error, without sleeping after the last attempt", async () => {
    const { fn, errors, attempts } = flaky(Number.POSITIVE_INFINITY);
    const { delays, sleep } = recordingSleep();

    const error = await retry(fn, policy({ maxAttempts: 4, sleep })).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(error, "the caller sees the real last failure, not a generic wrapper").toBe(errors[3]);
    expect(attempts).toEqual([1, 2, 3, 4]);
    expect(delays, "waiting after the final attempt only delays the error").toHaveLength(3);
  });

  it("waits random() × min(maxDelayMs, baseDelayMs × 2^retry) before retry n: doubling, then capped", async () => {
    const { fn } = flaky(Number.POSITIVE_INFINITY);
    const { delays, sleep } = recordingSleep();

    await retry(fn, policy({ maxAttempts: 7, sleep, random: () => 0.5 })).catch(() => {});

    const expected = [0, 1, 2, 3, 4, 5].map((retryIndex) => 0.5 * Math.min(1_000, 100 * 2 ** retryIndex));
    expect(
      delays,
      "the ceiling doubles per retry (100, 200, 400, ...) and stops at the cap; the delay is random() of it",
    ).toEqual(expected);
  });

  it("draws a fresh random number for every retry (full jitter), so the delays spread over [0, ceiling)", async () => {
    const { fn } = flaky(Number.POSITIVE_INFINITY);
    const { delays, sleep } = recordingSleep();

    await retry(fn, policy({ maxAttempts: 8, sleep, random: seededRandom(9) })).catch(() => {});

    const draws = seededRandom(9);
    const expected = [0, 1, 2, 3, 4, 5, 6].map((retryIndex) => draws() * Math.min(1_000, 100 * 2 ** retryIndex));
    expect(
      delays,
      "one draw per retry, in order: jitter is what stops a fleet of clients retrying in lockstep",
    ).toEqual(expected);
    expect(new Set(delays).size).toBe(delays.length);
  });

  it("stops at once when isRetryable says no, and gives the predicate the error and the attempt", async () => {
    const seen: [unknown, number][] = [];
    const fatal = new TypeError("400 Bad Request: retrying cannot fix it");
    const transient = new Error("503");
    let calls = 0;
    const { delays, sleep } = recordingSleep();

    const outcome = retry(
      async () => {
        calls++;
        throw calls === 1 ? transient : fatal;
      },
      policy({
        sleep,
        isRetryable: (error, attempt) => {
          seen.push([error, attempt]);
          return !(error instanceof TypeError);
        },
      }),
    );

    await expect(outcome).rejects.toBe(fatal);
    expect(calls, "a non-retryable error ends the loop").toBe(2);
    expect(delays).toHaveLength(1);
    expect(seen).toEqual([
      [transient, 1],
      [fatal, 2],
    ]);
  });

  it("starts no new attempt once the signal aborts during the backoff, and rejects with the signal's reason", async () => {
    const controller = new AbortController();
    const { fn, attempts } = flaky(Number.POSITIVE_INFINITY);
    let sleepSignal: AbortSignal | undefined;
    let sleeping!: () => void;
    const asleep = new Promise<void>((resolve) => (sleeping = resolve));
    const sleep = (_ms: number, signal?: AbortSignal) =>
      new Promise<void>((_, reject) => {
        sleepSignal = signal;
        signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
        sleeping();
      });
    const outcome = retry(fn, policy({ sleep, signal: controller.signal }));
    await Promise.race([asleep, outcome.catch(() => {})]); // the backoff began (or retry already failed)
    expect(
      sleepSignal,
      "the sleep gets a signal (policy.signal, or one that aborts with it), so the backoff itself can be cut short",
    ).toBeInstanceOf(AbortSignal);
    const reason = new Error("deploy in progress, stop");

    controller.abort(reason);

    await expect(outcome).rejects.toBe(reason);
    expect(
      [sleepSignal?.aborted, sleepSignal?.reason],
      "the sleep's signal aborts when the caller's does, with the caller's reason",
    ).toEqual([true, reason]);
    expect(attempts, "no attempt after the abort").toEqual([1]);
  });

  it("does not retry a failure that comes after the abort, and reports the abort's reason instead", async () => {
    const controller = new AbortController();
    const reason = new Error("user cancelled");
    const { delays, sleep } = recordingSleep();
    let calls = 0;

    const outcome = retry(
      async () => {
        calls++;
        controller.abort(reason);
        throw new Error("request aborted");
      },
      policy({ sleep, signal: controller.signal }),
    );

    await expect(outcome, "the failure is a consequence of the abort; the abort is the news").rejects.toBe(reason);
    expect(calls).toBe(1);
    expect(delays).toHaveLength(0);
  });

  it("does not call fn at all when the signal is already aborted", async () => {
    const reason = new Error("already stopped");
    const fn = vi.fn(async () => "never");

    await expect(retry(fn, policy({ signal: AbortSignal.abort(reason) }))).rejects.toBe(reason);
    expect(fn).not.toHaveBeenCalled();
  });

  it("by default sleeps on a real timer for the computed delay, and leaves no listener on the signal after it", async () => {
    const { fn, attempts } = flaky(1);
    const controller = new AbortController();
    // random() 0.5 of a 200 ms ceiling: a 100 ms backoff. Timers of one process fire in the order
    // they fall due, whichever timer API set them and however busy the machine is, so two probes
    // started with the backoff bracket it: one at half of it, one at one and a half times it.
    const outcome = retry(fn, policy({ baseDelayMs: 200, random: () => 0.5, signal: controller.signal }));
    outcome.catch(() => {}); // observed below; this keeps an early failure from going unhandled
    const attemptsAfter = (ms: number) =>
      new Promise<number[]>((resolve) => setTimeout(() => resolve([...attempts]), ms));

    const [halfway, after] = await Promise.all([attemptsAfter(50), attemptsAfter(150)]);

    expect(
      halfway,
      "50 ms into a 100 ms backoff the retry has not started: the default sleep waits the computed delay",
    ).toEqual([1]);
    expect(
      after,
      "50 ms after the backoff ended it has: the delay is in milliseconds, and no longer than computed",
    ).toEqual([1, 2]);
    await expect(outcome).resolves.toBe("ok");
    expect(getEventListeners(controller.signal, "abort"), "a finished sleep removes its abort listener").toHaveLength(
      0,
    );
  });

  it("exports the default sleep, which rejects at once with an already-aborted signal's reason and works without a signal", async () => {
    const baseline = activeTimeouts();
    const reason = new Error("already stopped");

    await expect(abortableSleep(60_000, AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(activeTimeouts(), "no timer is started for a sleep that cannot happen").toBe(baseline);
    await expect(abortableSleep(1), "the signal is optional").resolves.toBeUndefined();
    for (const bad of [-1, Number.NaN, 2 ** 31]) {
      await expect(
        abortableSleep(bad),
        `sleep(${bad}): setTimeout would quietly turn it into 1 ms`,
      ).rejects.toBeInstanceOf(RangeError);
    }
  });

  it("by default cuts the backoff short when the signal aborts, and leaves no timer behind", async () => {
    const baseline = activeTimeouts();
    const controller = new AbortController();
    let failed!: () => void;
    const firstFailure = new Promise<void>((resolve) => (failed = resolve));
    const outcome = retry(
      async () => {
        failed();
        throw new Error("down");
      },
      policy({ baseDelayMs: 60_000, maxDelayMs: 60_000, signal: controller.signal }),
    );
    await Promise.race([firstFailure, outcome.catch(() => {})]);
    await flush(); // now in the backoff
    const reason = new Error("shutdown");

    controller.abort(reason);

    await expect(outcome, "a 30 s backoff must not delay a shutdown").rejects.toBe(reason);
    expect(activeTimeouts(), "the backoff timer is cleared on abort").toBe(baseline);
  });

  it("rejects a policy with fewer than one attempt, a fractional attempt count or a negative delay with RangeError", async () => {
    const fn = async () => "x";
    await expect(retry(fn, policy({ maxAttempts: 0 }))).rejects.toBeInstanceOf(RangeError);
    await expect(retry(fn, policy({ maxAttempts: 1.5 }))).rejects.toBeInstanceOf(RangeError);
    await expect(retry(fn, policy({ baseDelayMs: -1 }))).rejects.toBeInstanceOf(RangeError);
    await expect(retry(fn, policy({ maxDelayMs: -1 }))).rejects.toBeInstanceOf(RangeError);
    await expect(retry(fn, policy({ maxDelayMs: Number.NaN }))).rejects.toBeInstanceOf(RangeError);
    await expect(
      retry(fn, policy({ maxAttempts: Number.POSITIVE_INFINITY })),
      "retrying forever is not a policy",
    ).rejects.toBeInstanceOf(RangeError);
    await expect(
      retry(fn, policy({ maxDelayMs: 2 ** 31 })),
      "a cap over 2^31 − 1 ms cannot be slept on one timer: setTimeout would fire it after 1 ms",
    ).rejects.toBeInstanceOf(RangeError);
  });

  it("treats maxAttempts 1 as a single attempt with no retry, and a zero base delay or cap as retrying at once", async () => {
    const once = flaky(Number.POSITIVE_INFINITY);
    const { delays, sleep } = recordingSleep();
    await expect(retry(once.fn, policy({ maxAttempts: 1, sleep }))).rejects.toBe(once.errors[0]);
    expect(once.attempts).toEqual([1]);
    expect(delays).toEqual([]);

    const eager = flaky(2);
    await expect(retry(eager.fn, policy({ baseDelayMs: 0, sleep }))).resolves.toBe("ok");
    expect(delays, "zero is a valid base: every ceiling is 0").toEqual([0, 0]);

    const capped = flaky(1);
    await expect(retry(capped.fn, policy({ maxDelayMs: 0, sleep }))).resolves.toBe("ok");
    expect(delays, "and a zero cap is valid too").toEqual([0, 0, 0]);
  });
});
