import { describe, expect, it } from "vitest";
import { CircuitBreaker, type CircuitBreakerOptions, type StateChange } from "../src/circuit-breaker";
import { BreakerOpenError, TimeoutError } from "../src/errors";
import { settle, testClock, type TestClock } from "./support/manual-clock";

class HttpError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

type Outcome = "ok" | "fail" | "client-error";

/** A breaker over an action whose next outcomes the test decides, counting the calls it gets. */
function scripted(options: CircuitBreakerOptions<[Outcome], string> = {}, clock: TestClock = testClock()) {
  let calls = 0;
  const breaker = new CircuitBreaker<[Outcome], string>(
    async (outcome) => {
      calls++;
      if (outcome === "fail") throw new Error("dependency failed");
      if (outcome === "client-error") throw new HttpError(404);
      return "answer";
    },
    { clock, ...options },
  );
  const changes: StateChange[] = [];
  breaker.onStateChange((change) => changes.push(change));
  const run = (outcome: Outcome) => breaker.fire(outcome).catch((error: unknown) => error);
  return { breaker, clock, changes, run, calls: () => calls };
}

/** A promise the test settles by hand. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const isOpenError = (value: unknown) => value instanceof BreakerOpenError && value.code === "EOPENBREAKER";

describe("closed: counting failures in a rolling window", () => {
  it("passes calls through and returns their results", async () => {
    const { breaker, calls } = scripted();
    expect(await breaker.fire("ok")).toBe("answer");
    await expect(breaker.fire("fail"), "the action's own error reaches the caller").rejects.toThrow(
      "dependency failed",
    );
    expect(calls()).toBe(2);
    expect(breaker.state).toBe("closed");
  });

  it("stays closed at exactly the threshold and opens once failures are strictly above it", async () => {
    const { breaker, run, changes } = scripted({ errorThresholdPercentage: 50, volumeThreshold: 4 });
    for (const outcome of ["ok", "fail", "ok", "fail"] as const) await run(outcome);
    expect(breaker.state, "2 failures in 4 calls is 50 %, not more than 50 %").toBe("closed");
    await run("fail");
    expect(breaker.state, "3 failures in 5 calls is 60 %: above the threshold").toBe("open");
    expect(changes.map((c) => `${c.from}->${c.to}`)).toEqual(["closed->open"]);
  });

  it("does not open before the window holds volumeThreshold calls, however many of them fail", async () => {
    const { breaker, run } = scripted({ volumeThreshold: 5 });
    for (let i = 0; i < 4; i++) await run("fail");
    expect(breaker.state, "4 failures out of 4 are too few calls to judge a dependency by").toBe("closed");
    await run("fail");
    expect(breaker.state, "the fifth failure meets the volume threshold").toBe("open");
  });

  it("still counts an outcome rollingWindowMs − bucketMs later, and no longer at rollingWindowMs", async () => {
    const options = { volumeThreshold: 4, rollingWindowMs: 1_000, buckets: 10 };
    const early = scripted(options);
    await early.run("fail");
    await early.run("fail");
    await early.clock.advance(900);
    await early.run("ok");
    await early.run("fail");
    expect(early.breaker.state, "900 ms later the first two failures are still in a 1 s window: 3 of 4 failed").toBe(
      "open",
    );

    const late = scripted(options);
    await late.run("fail");
    await late.run("fail");
    await late.clock.advance(1_000);
    await late.run("ok");
    await late.run("fail");
    expect(late.breaker.state, "1 s later they have left the window: 2 calls are below the volume threshold").toBe(
      "closed",
    );
  });

  it("counts a timeout as a failure, rejecting it with TimeoutError (ETIMEDOUT)", async () => {
    const clock = testClock();
    const breaker = new CircuitBreaker(() => new Promise<string>(() => {}), {
      clock,
      timeoutMs: 100,
      volumeThreshold: 3,
    });
    const calls = [breaker.fire(), breaker.fire(), breaker.fire()].map((p) => p.catch((error: unknown) => error));
    await clock.advance(99);
    expect(breaker.state, "nothing has timed out yet").toBe("closed");
    await clock.advance(1);
    const errors = await Promise.all(calls);
    for (const error of errors) {
      expect(error, "a call that outlives timeoutMs is rejected with TimeoutError").toBeInstanceOf(TimeoutError);
      expect((error as TimeoutError).code).toBe("ETIMEDOUT");
    }
    expect(breaker.state, "a dependency that hangs is failing: timeouts must count as failures").toBe("open");
  });

  it("ignores an answer that arrives after its timeout, and leaves no timer behind a finished call", async () => {
    const clock = testClock();
    const late = deferred<string>();
    const breaker = new CircuitBreaker(() => late.promise, { clock, timeoutMs: 100 });
    const call = breaker.fire().catch((error: unknown) => error);
    await clock.advance(100);
    late.resolve("too late");
    expect(await call, "the caller got its TimeoutError; the late answer cannot change that").toBeInstanceOf(
      TimeoutError,
    );
    const quickClock = testClock();
    const quick = new CircuitBreaker(async () => "fast", { clock: quickClock, timeoutMs: 100 });
    await quick.fire();
    await settle();
    expect(quickClock.pendingTimers(), "a call that finished in time must cancel its timeout timer").toBe(0);
  });
});

describe("closed: edge cases of the window", () => {
  it("forgets an old bucket even when no newer outcome has reused its slot", async () => {
    const { breaker, clock, run } = scripted({ volumeThreshold: 2, rollingWindowMs: 1_000, buckets: 10 });
    await run("fail");
    await clock.advance(1_500);
    await run("fail");
    expect(
      breaker.state,
      "the failure of 1.5 s ago is out of a 1 s window: one call is below the volume threshold",
    ).toBe("closed");
  });

  it("decides after failures only: a success never opens it", async () => {
    const { breaker, run } = scripted({ volumeThreshold: 5, errorThresholdPercentage: 50 });
    for (const outcome of ["fail", "fail", "fail", "ok", "ok"] as const) await run(outcome);
    expect(breaker.state, "the volume was met by a success: the breaker opens when a failure is recorded").toBe(
      "closed",
    );
    await run("fail");
    expect(breaker.state, "4 failures in 6 calls, decided on this failure").toBe("open");
  });

  it("counts an action that throws synchronously as a failure", async () => {
    const breaker = new CircuitBreaker(
      (): Promise<string> => {
        throw new Error("sync boom");
      },
      { clock: testClock(), volumeThreshold: 1 },
    );
    await expect(breaker.fire(), "the caller gets the error as a rejection").rejects.toThrow("sync boom");
    expect(breaker.state).toBe("open");
  });
});

describe("open: failing fast", () => {
  it("refuses calls at once with BreakerOpenError, without calling the dependency", async () => {
    const { breaker, run, calls } = scripted({ volumeThreshold: 1 });
    await run("fail");
    expect(breaker.state).toBe("open");
    const before = calls();
    const refused = await run("ok");
    expect(isOpenError(refused), "an open breaker rejects with BreakerOpenError, code EOPENBREAKER").toBe(true);
    expect(calls(), "the whole point: an open breaker does not touch the dependency").toBe(before);
  });

  it("turns half-open once resetTimeoutMs has passed, and not a millisecond before", async () => {
    const { breaker, run, clock, changes } = scripted({ volumeThreshold: 1, resetTimeoutMs: 5_000 });
    await run("fail");
    await clock.advance(4_999);
    expect(breaker.state).toBe("open");
    expect(isOpenError(await run("ok")), "still open 1 ms before the reset timeout").toBe(true);
    await clock.advance(1);
    expect(breaker.state, "after resetTimeoutMs the breaker may try the dependency again").toBe("half-open");
    const last = changes.at(-1);
    expect(
      last && { from: last.from, to: last.to, after: last.at - clock.now() },
      "the change is announced with its time",
    ).toEqual({ from: "open", to: "half-open", after: 0 });
  });
});

describe("half-open: exactly one probe", () => {
  async function halfOpen(options: CircuitBreakerOptions<[], string> = {}) {
    const clock = testClock();
    let calls = 0;
    let next: () => Promise<string> = () => Promise.reject(new Error("down"));
    const breaker = new CircuitBreaker<[], string>(() => (calls++, next()), {
      clock,
      volumeThreshold: 1,
      resetTimeoutMs: 1_000,
      timeoutMs: 500,
      ...options,
    });
    await breaker.fire().catch(() => {});
    await clock.advance(1_000);
    expect(breaker.state).toBe("half-open");
    return { breaker, clock, calls: () => calls, setNext: (fn: () => Promise<string>) => (next = fn) };
  }

  it("lets exactly one probe through when many calls arrive together, and refuses the rest", async () => {
    const { breaker, calls, setNext } = await halfOpen();
    const probe = deferred<string>();
    setNext(() => probe.promise);
    const before = calls();
    const results = Array.from({ length: 10 }, () => breaker.fire().catch((error: unknown) => error));
    await settle();
    expect(
      calls() - before,
      "half-open means ONE probe: letting every call through is how a recovering dependency is knocked over again",
    ).toBe(1);
    probe.resolve("recovered");
    const settled = await Promise.all(results);
    expect(settled.filter((r) => r === "recovered").length).toBe(1);
    expect(
      settled.filter(isOpenError).length,
      "the other nine are refused with BreakerOpenError while the probe is out",
    ).toBe(9);
    expect(breaker.state, "a successful probe closes the breaker").toBe("closed");
  });

  it("opens again for another resetTimeoutMs when the probe fails", async () => {
    const { breaker, clock } = await halfOpen();
    await breaker.fire().catch(() => {});
    expect(breaker.state, "a failed probe means the dependency is still down").toBe("open");
    await clock.advance(999);
    expect(breaker.state, "the pause starts again from the failed probe").toBe("open");
    await clock.advance(1);
    expect(breaker.state).toBe("half-open");
  });

  it("opens again when the probe times out", async () => {
    const { breaker, clock, setNext } = await halfOpen();
    setNext(() => new Promise<string>(() => {}));
    const probe = breaker.fire().catch((error: unknown) => error);
    await clock.advance(500);
    expect(await probe).toBeInstanceOf(TimeoutError);
    expect(breaker.state, "a probe that hangs is a failed probe").toBe("open");
  });

  it("starts closed with an empty window, so old failures cannot reopen it at once", async () => {
    const { breaker, clock, run } = scripted({ volumeThreshold: 3, resetTimeoutMs: 1_000 });
    for (let i = 0; i < 3; i++) await run("fail");
    expect(breaker.state).toBe("open");
    await clock.advance(1_000);
    await run("ok");
    expect(breaker.state).toBe("closed");
    await run("fail");
    expect(
      breaker.state,
      "1 failure in a fresh window is below the volume threshold; counting the failures from before the recovery " +
        "makes the breaker flap",
    ).toBe("closed");
  });

  it("lets only the probe decide: a slow call from before the breaker opened does not close it", async () => {
    const clock = testClock();
    const slow = deferred<string>();
    const probe = deferred<string>();
    const answers = [
      () => slow.promise,
      () => Promise.reject(new Error("down")),
      () => Promise.reject(new Error("down")),
      () => probe.promise,
    ];
    const breaker = new CircuitBreaker(() => answers.shift()!(), {
      clock,
      volumeThreshold: 2,
      resetTimeoutMs: 1_000,
      timeoutMs: 60_000,
    });
    const slowCall = breaker.fire().catch(() => {});
    await breaker.fire().catch(() => {});
    await breaker.fire().catch(() => {});
    expect(breaker.state).toBe("open");
    await clock.advance(1_000);
    const probeCall = breaker.fire().catch((error: unknown) => error);
    slow.resolve("from long ago");
    await slowCall;
    expect(breaker.state, "the slow success started while closed; only the probe may close a half-open breaker").toBe(
      "half-open",
    );
    probe.reject(new Error("still down"));
    await probeCall;
    expect(breaker.state, "the probe failed: open again").toBe("open");
  });
});

describe("errors that are the caller's fault", () => {
  it("never opens on filtered errors, passes them through unchanged, and counts them as successes", async () => {
    let fallbacks = 0;
    const { breaker, run } = scripted({
      volumeThreshold: 4,
      errorFilter: (error) => error instanceof HttpError && error.status < 500,
      fallback: () => (fallbacks++, "fallback"),
    });
    for (let i = 0; i < 10; i++) {
      const result = await run("client-error");
      expect(result, "a 404 is the caller's answer, not the dependency's failure").toBeInstanceOf(HttpError);
    }
    expect(breaker.state, "ten 4xx in a row say nothing about the dependency's health").toBe("closed");
    expect(fallbacks, "a filtered error is not replaced by the fallback").toBe(0);
    await run("fail");
    await run("fail");
    expect(breaker.state, "2 failures among 12 calls: the 4xx counted as successful calls").toBe("closed");
  });

  it("closes from half-open when the probe gets a filtered error: the dependency answered", async () => {
    const { breaker, clock, run } = scripted({
      volumeThreshold: 1,
      resetTimeoutMs: 100,
      errorFilter: (e) => e instanceof HttpError,
    });
    await run("fail");
    await clock.advance(100);
    await run("client-error");
    expect(breaker.state).toBe("closed");
  });
});

describe("fallback", () => {
  it("answers refused and failed calls with fallback(error, ...args), rejecting with its own error", async () => {
    const seen: string[] = [];
    const clock = testClock();
    const breaker = new CircuitBreaker(
      async (id: string) => {
        if (id === "boom") throw new Error("dependency failed");
        return `fresh ${id}`;
      },
      {
        clock,
        volumeThreshold: 2,
        fallback: (error, id) => {
          seen.push(`${(error as { code?: string }).code ?? (error as Error).message}:${id}`);
          if (id === "no-fallback") throw new Error("fallback failed too");
          return `stale ${id}`;
        },
      },
    );
    expect(await breaker.fire("a")).toBe("fresh a");
    expect(await breaker.fire("boom"), "a failure is answered by the fallback").toBe("stale boom");
    expect(await breaker.fire("boom")).toBe("stale boom");
    expect(breaker.state).toBe("open");
    expect(await breaker.fire("b"), "so is a refusal").toBe("stale b");
    await expect(breaker.fire("no-fallback"), "a fallback that throws rejects the call with its error").rejects.toThrow(
      "fallback failed too",
    );
    expect(seen, "the fallback gets the error (BreakerOpenError for a refusal) and the call's arguments").toEqual([
      "dependency failed:boom",
      "dependency failed:boom",
      "EOPENBREAKER:b",
      "EOPENBREAKER:no-fallback",
    ]);
  });
});

describe("events and options", () => {
  it("announces every change in order, and a listener can unsubscribe", async () => {
    const { breaker, clock, run, changes } = scripted({ volumeThreshold: 1, resetTimeoutMs: 1_000 });
    const second: string[] = [];
    const stop = breaker.onStateChange((c) => second.push(c.to));
    await run("fail");
    stop();
    await clock.advance(1_000);
    await run("ok");
    expect(changes.map((c) => `${c.from}->${c.to}`)).toEqual(["closed->open", "open->half-open", "half-open->closed"]);
    expect(second, "an unsubscribed listener hears nothing more").toEqual(["open"]);
  });

  it("rejects options out of range with RangeError", () => {
    const action = async () => "x";
    expect(() => new CircuitBreaker(action, { errorThresholdPercentage: 120 })).toThrow(RangeError);
    expect(() => new CircuitBreaker(action, { timeoutMs: 0 }), "a zero timeout fails every call").toThrow(RangeError);
    expect(() => new CircuitBreaker(action, { volumeThreshold: -1 })).toThrow(RangeError);
    expect(
      () => new CircuitBreaker(action, { rollingWindowMs: 1_000, buckets: 3 }),
      "buckets must divide the window",
    ).toThrow(RangeError);
    expect(() => new CircuitBreaker(action, { rollingWindowMs: 1_000, buckets: 4 })).not.toThrow();
    expect(() => new CircuitBreaker(action, { resetTimeoutMs: 0 })).toThrow(RangeError);
    expect(() => new CircuitBreaker(action, { errorThresholdPercentage: -1 })).toThrow(RangeError);
    expect(() => new CircuitBreaker(action, { errorThresholdPercentage: 0 })).not.toThrow();
    expect(() => new CircuitBreaker(action, { errorThresholdPercentage: 100 })).not.toThrow();
    expect(() => new CircuitBreaker(action, { buckets: 0 })).toThrow(RangeError);
    expect(
      () => new CircuitBreaker(action, { rollingWindowMs: 1_000, buckets: -2 }),
      "a negative bucket count divides the window, yet makes no window at all",
    ).toThrow(RangeError);
    expect(() => new CircuitBreaker(action, { rollingWindowMs: 1_000, buckets: 2.5 })).toThrow(RangeError);
    expect(() => new CircuitBreaker(action, { rollingWindowMs: 1_000, buckets: 1 })).not.toThrow();
    expect(() => new CircuitBreaker(action, { rollingWindowMs: 0, buckets: 1 })).toThrow(RangeError);
  });
});
