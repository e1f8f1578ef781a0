import { describe, expect, it } from "vitest";
import { BreakerOpenError } from "../src/errors";
import { retry, RetryBudget } from "../src/retry-budget";
import { settle, testClock } from "./support/manual-clock";

describe("a retry budget", () => {
  it("allows retries up to `ratio` of the requests in the window", () => {
    const budget = new RetryBudget({ ratio: 0.1, clock: testClock() });
    for (let i = 0; i < 100; i++) budget.recordRequest();
    const granted = Array.from({ length: 15 }, () => budget.tryRetry()).filter(Boolean).length;
    expect(
      granted,
      "100 requests at a 10 % budget pay for 10 retries, not 15: retries must not multiply the load",
    ).toBe(10);
  });

  it("keeps a reserve of minRetriesPerSecond × the window, so a quiet service can still retry", () => {
    const budget = new RetryBudget({ ratio: 0.1, minRetriesPerSecond: 2, windowMs: 5_000, clock: testClock() });
    const granted = Array.from({ length: 20 }, () => budget.tryRetry()).filter(Boolean).length;
    expect(granted, "2 per second over 5 s is 10 retries with no requests at all").toBe(10);
  });

  it("counts requests and retries only while they are in the window", async () => {
    const clock = testClock();
    const budget = new RetryBudget({ ratio: 0.5, windowMs: 1_000, clock });
    for (let i = 0; i < 10; i++) budget.recordRequest();
    for (let i = 0; i < 5; i++) budget.tryRetry();
    expect(budget.tryRetry(), "the budget of 5 is spent").toBe(false);
    await clock.advance(900);
    expect(budget.tryRetry(), "900 ms later the retries still count in a 1 s window").toBe(false);
    for (let i = 0; i < 2; i++) budget.recordRequest();
    expect(budget.tryRetry(), "two new requests earn one more retry").toBe(true);
    await clock.advance(100);
    expect(
      budget.tryRetry(),
      "1 s after them the first 10 requests and their 5 retries are gone; 2 requests at 50 % pay for the 1 retry " +
        "already taken",
    ).toBe(false);
    await clock.advance(1_000);
    for (let i = 0; i < 4; i++) budget.recordRequest();
    expect([budget.tryRetry(), budget.tryRetry(), budget.tryRetry()], "a fresh window: 4 requests, 2 retries").toEqual([
      true,
      true,
      false,
    ]);
  });

  it("lets requests from earlier in the window pay for retries now, and not once they have left it", async () => {
    const clock = testClock();
    const budget = new RetryBudget({ ratio: 0.5, windowMs: 1_000, clock });
    for (let i = 0; i < 4; i++) budget.recordRequest();
    await clock.advance(500);
    expect(
      [budget.tryRetry(), budget.tryRetry(), budget.tryRetry()],
      "4 requests 500 ms ago pay for 2 retries",
    ).toEqual([true, true, false]);
    const later = new RetryBudget({ ratio: 0.5, windowMs: 1_000, clock });
    for (let i = 0; i < 4; i++) later.recordRequest();
    await clock.advance(1_000);
    expect(later.tryRetry(), "requests older than the window pay for nothing").toBe(false);
  });

  it("forgets requests once they leave the window, wherever in the window they were counted", async () => {
    const clock = testClock();
    const budget = new RetryBudget({ ratio: 0.5, windowMs: 1_000, clock });
    for (let i = 0; i < 4; i++) budget.recordRequest();
    await clock.advance(500);
    for (let i = 0; i < 4; i++) budget.recordRequest();
    await clock.advance(600);
    expect(
      [budget.tryRetry(), budget.tryRetry(), budget.tryRetry()],
      "the 4 requests of 1.1 s ago are out of the window, the 4 of 0.6 s ago pay for 2 retries",
    ).toEqual([true, true, false]);
  });

  it("rejects options that make no sense with RangeError", async () => {
    expect(() => new RetryBudget({ ratio: -0.1 })).toThrow(RangeError);
    expect(() => new RetryBudget({ ratio: 0.1, minRetriesPerSecond: -1 })).toThrow(RangeError);
    expect(() => new RetryBudget({ ratio: 0.1, windowMs: 0 })).toThrow(RangeError);
    expect(() => new RetryBudget({ ratio: 0.1, windowMs: 1_005 }), "10 buckets must divide the window").toThrow(
      RangeError,
    );
    expect(() => new RetryBudget({ ratio: 0 }), "a budget of no retries is a valid choice").not.toThrow();
    const budget = new RetryBudget({ ratio: 1 });
    const noAttempts = retry(async () => 1, { maxAttempts: 0, baseDelayMs: 1, maxDelayMs: 1, budget });
    await expect(noAttempts, "zero attempts would never call at all").rejects.toThrow(RangeError);
  });
});

describe("retry with backoff, jitter and a budget", () => {
  const generous = () => new RetryBudget({ ratio: 1, minRetriesPerSecond: 100, clock: testClock() });

  it("retries a failing call until it succeeds, waiting a full-jitter delay before each retry", async () => {
    const clock = testClock();
    const attemptsAt: number[] = [];
    const start = clock.now();
    const result = retry(
      async (n) => {
        attemptsAt.push(clock.now() - start);
        if (n < 4) throw new Error("flaky");
        return "done";
      },
      { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 250, budget: generous(), clock, random: () => 0.5 },
    );
    await clock.advance(1_000);
    expect(await result).toBe("done");
    // Caps 100, 200, 250 (capped): random 0.5 waits half of each.
    expect(attemptsAt, "retry n waits random() × min(maxDelayMs, baseDelayMs × 2^(n−1))").toEqual([0, 50, 150, 275]);
  });

  it("gives up after maxAttempts, with the last error", async () => {
    const clock = testClock();
    let attempts = 0;
    const result = retry(
      async (n) => {
        attempts++;
        throw new Error(`failure ${n}`);
      },
      { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 10, budget: generous(), clock, random: () => 0.99 },
    ).catch((error: unknown) => error);
    await clock.advance(100);
    expect(((await result) as Error).message).toBe("failure 3");
    expect(attempts).toBe(3);
  });

  it("stops retrying when the budget says no", async () => {
    const clock = testClock();
    const budget = new RetryBudget({ ratio: 0.1, clock });
    let attempts = 0;
    const calls = Array.from({ length: 20 }, () =>
      retry(
        async () => {
          attempts++;
          throw new Error("down");
        },
        { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 1, budget, clock, random: () => 0 },
      ).catch(() => undefined),
    );
    await clock.advance(100);
    await Promise.all(calls);
    expect(attempts, "20 calls may retry 2 times in all at 10 %, not 3 times each: 20 + 2 attempts").toBe(22);
  });

  it("does not retry an error that is not retryable, nor a refusal of an open breaker by default", async () => {
    const clock = testClock();
    let attempts = 0;
    await expect(
      retry(
        async () => {
          attempts++;
          throw new BreakerOpenError();
        },
        { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1, budget: generous(), clock },
      ),
    ).rejects.toBeInstanceOf(BreakerOpenError);
    expect(attempts, "an open breaker refuses at once: retrying it is pointless").toBe(1);
    const permanent = retry(
      async () => {
        attempts++;
        throw new Error("400");
      },
      { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1, budget: generous(), clock, isRetryable: () => false },
    );
    await expect(permanent).rejects.toThrow("400");
    await settle();
    expect(attempts).toBe(2);
  });
});
