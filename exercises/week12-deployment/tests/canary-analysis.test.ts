import { describe, expect, it } from "vitest";
import { judgeCanary, type CanaryMetrics, type CanaryPolicy } from "../src/canary-analysis";

const policy: CanaryPolicy = {
  minRequests: 1_000,
  maxErrorRate: 0.01,
  maxErrorRateIncrease: 0.005,
  maxLatencyRatio: 1.25,
};
const healthy: CanaryMetrics = { requests: 10_000, errors: 20, p99LatencyMs: 200 };
const side = (requests: number, errors: number, p99LatencyMs = 200): CanaryMetrics => ({
  requests,
  errors,
  p99LatencyMs,
});

describe("promote", () => {
  it("promotes a canary that is no worse than the baseline within the policy", () => {
    expect(judgeCanary(healthy, side(2_000, 5, 210), policy)).toEqual({ decision: "promote", reasons: [] });
  });

  it("treats exactly-at-threshold values as passing", () => {
    // 10 errors in 1000 is exactly the 1 % SLO; 250 ms is exactly 1.25 x 200 ms.
    expect(
      judgeCanary(side(1_000, 10), side(1_000, 10, 250), policy),
      "the SLO says 'at most 1 %': 1 % passes",
    ).toEqual({ decision: "promote", reasons: [] });
    const loose = { ...policy, maxErrorRate: 1, maxErrorRateIncrease: 0.25 };
    expect(
      judgeCanary(side(1_000, 250), side(1_000, 500), loose),
      "0.5 - 0.25 is exactly the allowed increase",
    ).toEqual({ decision: "promote", reasons: [] });
  });
});

describe("wait", () => {
  it("waits while the canary has served fewer than minRequests, if its errors could still fit the SLO", () => {
    expect(judgeCanary(healthy, side(999, 0), policy), "999 requests is not yet a sample").toEqual({
      decision: "wait",
      reasons: ["insufficient-data"],
    });
    expect(
      judgeCanary(healthy, side(200, 10), policy),
      "10 errors of a 1000-request sample may still be within 1 %",
    ).toEqual({
      decision: "wait",
      reasons: ["insufficient-data"],
    });
  });

  it("waits when only the baseline is too small to compare with", () => {
    expect(
      judgeCanary(side(300, 0), side(5_000, 10), policy),
      "a healthy canary next to a baseline too small to compare",
    ).toEqual({
      decision: "wait",
      reasons: ["insufficient-data"],
    });
  });
});

describe("roll back", () => {
  it("rolls back at once when the canary's errors already exceed the whole sample's error budget", () => {
    expect(judgeCanary(healthy, side(40, 11), policy), "11 errors > 1 % of 1000: no later success can save it").toEqual(
      {
        decision: "rollback",
        reasons: ["error-budget-exhausted"],
      },
    );
    expect(judgeCanary(healthy, side(40, 10), policy), "10 errors still fit in 1 % of 1000").toEqual({
      decision: "wait",
      reasons: ["insufficient-data"],
    });
  });

  it("rolls back a canary above the SLO, even without a baseline to compare with", () => {
    expect(judgeCanary(side(10, 0), side(1_000, 11), policy), "1.1 % breaches a 1 % SLO on its own").toEqual({
      decision: "rollback",
      reasons: ["error-rate-slo"],
    });
  });

  it("rolls back a canary whose error rate is worse than the baseline's by more than allowed", () => {
    const verdict = judgeCanary(side(10_000, 0), side(1_000, 6), { ...policy, maxErrorRateIncrease: 0.005 });
    expect(verdict, "0.6 % against 0 % is within the SLO, but a regression of 0.6 points").toEqual({
      decision: "rollback",
      reasons: ["error-rate-regression"],
    });
    const loose = { ...policy, maxErrorRate: 1, maxErrorRateIncrease: 0.25 };
    expect(judgeCanary(side(1_000, 250), side(1_000, 501), loose).decision, "just over the allowed increase").toBe(
      "rollback",
    );
  });

  it("rolls back a canary whose p99 is slower than the baseline's by more than maxLatencyRatio", () => {
    expect(judgeCanary(side(1_000, 0, 200), side(1_000, 0, 251), policy)).toEqual({
      decision: "rollback",
      reasons: ["latency-regression"],
    });
    expect(
      judgeCanary(side(1_000, 0, 0), side(1_000, 0, 1), policy).decision,
      "anything is slower than 0 ms by more than any ratio",
    ).toBe("rollback");
  });

  it("lists every reason found, in the documented order", () => {
    expect(judgeCanary(side(1_000, 0, 100), side(1_000, 50, 500), policy)).toEqual({
      decision: "rollback",
      reasons: ["error-rate-slo", "error-rate-regression", "latency-regression"],
    });
  });
});

describe("validation", () => {
  it("refuses impossible metrics and policies (RangeError)", () => {
    const bad: [string, () => unknown][] = [
      ["more errors than requests", () => judgeCanary(healthy, side(10, 11), policy)],
      ["negative requests", () => judgeCanary(side(-1, 0), healthy, policy)],
      ["fractional requests", () => judgeCanary(side(10.5, 0), healthy, policy)],
      ["negative errors", () => judgeCanary(healthy, side(100, -1), policy)],
      ["a negative error rate", () => judgeCanary(healthy, healthy, { ...policy, maxErrorRate: -0.01 })],
      ["a negative increase", () => judgeCanary(healthy, healthy, { ...policy, maxErrorRateIncrease: -0.01 })],
      ["fractional errors", () => judgeCanary(healthy, side(100, 1.5), policy)],
      ["NaN latency", () => judgeCanary(healthy, side(100, 1, Number.NaN), policy)],
      ["negative latency", () => judgeCanary(side(100, 1, -1), healthy, policy)],
      ["minRequests 0", () => judgeCanary(healthy, healthy, { ...policy, minRequests: 0 })],
      ["an error rate above 1", () => judgeCanary(healthy, healthy, { ...policy, maxErrorRate: 1.5 })],
      ["a NaN increase", () => judgeCanary(healthy, healthy, { ...policy, maxErrorRateIncrease: Number.NaN })],
      ["a latency ratio below 1", () => judgeCanary(healthy, healthy, { ...policy, maxLatencyRatio: 0.9 })],
      [
        "an infinite latency ratio",
        () => judgeCanary(healthy, healthy, { ...policy, maxLatencyRatio: Number.POSITIVE_INFINITY }),
      ],
    ];
    for (const [what, call] of bad) expect(call, what).toThrow(RangeError);
    expect(() =>
      judgeCanary(side(0, 0, 0), side(0, 0, 0), {
        ...policy,
        maxErrorRate: 0,
        maxErrorRateIncrease: 0,
        maxLatencyRatio: 1,
        minRequests: 1,
      }),
    ).not.toThrow();
  });
});
