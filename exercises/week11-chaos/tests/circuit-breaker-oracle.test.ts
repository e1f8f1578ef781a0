// The same scripts through opossum 9 (the breaker most Node services use) and through yours,
// with the same options: both must pass through the same states and give the same answers.
// opossum reads Date.now and sets setTimeout/setInterval, so this file runs on vitest's fake
// timers (no real I/O here); your breaker gets the system clock, which the fake timers drive.
import CircuitBreakerOracle from "opossum";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CircuitBreaker } from "../src/circuit-breaker";
import { systemClock } from "../src/clock";

type Step =
  | { call: "ok" | "fail" | "client-error" | "hang" }
  | { wait: number }
  /** `n` calls at once while half-open; every one that runs settles with `probe`. */
  | { burst: number; probe: "ok" | "fail" };

interface Options {
  timeoutMs: number;
  resetTimeoutMs: number;
  errorThresholdPercentage: number;
  volumeThreshold: number;
  rollingWindowMs: number;
  buckets: number;
}

class HttpError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}
const isClientError = (error: unknown) => error instanceof HttpError && error.status < 500;

function action(outcome: string): Promise<string> {
  if (outcome === "hang") return new Promise(() => {});
  if (outcome === "fail") return Promise.reject(new Error("down"));
  if (outcome === "client-error") return Promise.reject(new HttpError(404));
  return Promise.resolve("ok");
}

function describeResult(value: unknown): string {
  if (typeof value === "string") return value;
  const code = (value as { code?: string }).code;
  if (code === "EOPENBREAKER" || code === "ETIMEDOUT") return code;
  return value instanceof HttpError ? "client-error" : "failed";
}

interface Runner {
  state(): string;
  fire(outcome: string): Promise<unknown>;
  calls(): number;
}

function oracle(options: Options): Runner & { shutdown(): void } {
  let calls = 0;
  const pending: ((outcome: string) => void)[] = [];
  const breaker = new CircuitBreakerOracle(
    (outcome: string) => {
      calls++;
      if (outcome === "deferred") {
        return new Promise<string>((resolve, reject) => pending.push((o) => void action(o).then(resolve, reject)));
      }
      return action(outcome);
    },
    {
      timeout: options.timeoutMs,
      resetTimeout: options.resetTimeoutMs,
      errorThresholdPercentage: options.errorThresholdPercentage,
      volumeThreshold: options.volumeThreshold,
      rollingCountTimeout: options.rollingWindowMs,
      rollingCountBuckets: options.buckets,
      errorFilter: isClientError,
    },
  );
  return {
    state: () => (breaker.closed ? "closed" : breaker.opened ? "open" : "half-open"),
    fire: (outcome) => breaker.fire(outcome).catch((error: unknown) => error),
    calls: () => calls,
    settleDeferred: (o: string) => {
      for (const settle of pending.splice(0)) settle(o);
    },
    shutdown: () => breaker.shutdown(),
  } as Runner & { shutdown(): void; settleDeferred(o: string): void };
}

function ours(options: Options): Runner & { settleDeferred(o: string): void } {
  let calls = 0;
  const pending: ((outcome: string) => void)[] = [];
  const breaker = new CircuitBreaker<[string], string>(
    (outcome) => {
      calls++;
      if (outcome === "deferred") {
        return new Promise<string>((resolve, reject) => pending.push((o) => void action(o).then(resolve, reject)));
      }
      return action(outcome);
    },
    { ...options, errorFilter: isClientError, clock: systemClock },
  );
  return {
    state: () => breaker.state,
    fire: (outcome) => breaker.fire(outcome).catch((error: unknown) => error),
    calls: () => calls,
    settleDeferred: (o) => {
      for (const settle of pending.splice(0)) settle(o);
    },
  };
}

async function play(runner: Runner & { settleDeferred?(o: string): void }, steps: Step[]): Promise<string[]> {
  const log: string[] = [runner.state()];
  const inFlight: Promise<unknown>[] = [];
  for (const step of steps) {
    if ("call" in step) {
      const result = runner.fire(step.call).then(describeResult);
      if (step.call === "hang") inFlight.push(result.then((r) => log.push(`late ${r}`)));
      else log.push(await result);
    } else if ("wait" in step) {
      await vi.advanceTimersByTimeAsync(step.wait);
    } else {
      const before = runner.calls();
      const results = Array.from({ length: step.burst }, () => runner.fire("deferred").then(describeResult));
      await vi.advanceTimersByTimeAsync(0);
      log.push(`burst ran ${runner.calls() - before}`);
      runner.settleDeferred!(step.probe);
      log.push(...(await Promise.all(results)).sort());
    }
    log.push(runner.state());
  }
  await Promise.all(inFlight);
  return log;
}

const base: Options = {
  timeoutMs: 1_000,
  resetTimeoutMs: 5_000,
  errorThresholdPercentage: 50,
  volumeThreshold: 4,
  rollingWindowMs: 10_000,
  buckets: 10,
};

/** Where the fake clock starts: a round time, unless a script says how far past one. */
const START = Date.UTC(2026, 0, 1);

const scripts: { name: string; options: Options; steps: Step[]; startsPastRoundMs?: number }[] = [
  {
    name: "opens above the threshold, fails fast, probes, and closes",
    options: base,
    steps: [
      { call: "ok" },
      { call: "fail" },
      { call: "ok" },
      { call: "fail" },
      { call: "fail" },
      { call: "ok" },
      { wait: 4_999 },
      { call: "ok" },
      { wait: 1 },
      { call: "ok" },
      { wait: 10_000 },
      { call: "fail" },
      { call: "ok" },
      { call: "ok" },
      { call: "fail" },
      { call: "fail" },
    ],
  },
  {
    name: "counts timeouts as failures, reopens on a timed-out probe, and closes on a filtered error",
    options: { ...base, volumeThreshold: 2, timeoutMs: 500 },
    steps: [
      { call: "hang" },
      { wait: 500 },
      { call: "hang" },
      { wait: 500 },
      { call: "ok" },
      { wait: 5_000 },
      { call: "hang" },
      { wait: 500 },
      { call: "ok" },
      { wait: 5_000 },
      {
        call: "client-error",
      },
      { call: "ok" },
    ],
  },
  {
    name: "forgets failures that rolled out of the window",
    options: { ...base, volumeThreshold: 3, rollingWindowMs: 1_000, buckets: 10 },
    steps: [
      { call: "fail" },
      { call: "fail" },
      { wait: 900 },
      { call: "fail" },
      { wait: 5_000 },
      { call: "ok" },
      { wait: 1_000 },
      { call: "fail" },
      { call: "fail" },
      { wait: 1_000 },
      { call: "fail" },
      { call: "ok" },
    ],
  },
  {
    // Real breakers are created at any time, not on a round millisecond. Counted from the
    // breaker's creation (as opossum does) or from the epoch, a failure at its start still
    // lies in the window 950 ms later; bucket arithmetic that is off (now + createdAt) loses it.
    name: "keeps a failure for the whole window when the breaker was created off a round time",
    options: { ...base, volumeThreshold: 3, rollingWindowMs: 1_000, buckets: 10 },
    startsPastRoundMs: 30,
    steps: [{ call: "fail" }, { call: "fail" }, { wait: 950 }, { call: "fail" }, { wait: 5_000 }, { call: "ok" }],
  },
  {
    name: "lets one call of a burst through while half-open",
    options: { ...base, volumeThreshold: 1 },
    steps: [
      { call: "fail" },
      { wait: 5_000 },
      {
        burst: 8,
        probe: "fail",
      },
      { wait: 5_000 },
      { burst: 8, probe: "ok" },
      { call: "ok" },
    ],
  },
];

describe("the same scripts through opossum and through your breaker", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: START });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  for (const script of scripts) {
    it(`${script.name}: same states, same answers`, async () => {
      const startAt = START + (script.startsPastRoundMs ?? 0);
      vi.setSystemTime(startAt);
      const reference = oracle(script.options);
      const expected = await play(reference, script.steps);
      reference.shutdown();
      vi.useRealTimers();
      vi.useFakeTimers({ now: startAt });
      const actual = await play(ours(script.options), script.steps);
      expect(
        actual,
        "after each step: the state, and each call's answer (ok, failed, client-error, EOPENBREAKER, ETIMEDOUT), " +
          "as opossum gives them",
      ).toEqual(expected);
    });
  }
});
