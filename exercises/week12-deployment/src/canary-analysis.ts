// Kata: release-pipeline (part 2: the canary judge)
//
// A canary release sends a slice of production traffic to the new version and compares it
// with the old one (the baseline) serving the rest, before promoting it to everyone. The
// comparison is a decision a machine must take every minute, so it has to be exact: roll back
// a canary that burns the error budget at once, wait while the sample is too small to tell,
// promote when nothing is worse than the policy allows.
//
// Build judgeCanary(baseline, canary, policy), with these rules, in this order:
// 1. Validation (RangeError): requests and errors are integers >= 0 with errors <= requests;
//    p99LatencyMs is finite and >= 0; minRequests is an integer >= 1; maxErrorRate and
//    maxErrorRateIncrease are in [0, 1]; maxLatencyRatio is finite and >= 1.
// 2. While canary.requests < minRequests: roll back with "error-budget-exhausted" if
//    canary.errors > maxErrorRate * minRequests (even if every remaining request of the sample
//    succeeds, its error rate ends above the SLO); otherwise wait with "insufficient-data".
// 3. With enough canary requests, a rollback reason each (error rate = errors / requests):
//    "error-rate-slo"        canary error rate > maxErrorRate (needs no baseline);
//    and, only when baseline.requests >= minRequests:
//    "error-rate-regression" canary error rate - baseline error rate > maxErrorRateIncrease;
//    "latency-regression"    canary.p99LatencyMs > baseline.p99LatencyMs * maxLatencyRatio.
//    Any reason: roll back, with every reason found, in the order listed here.
// 4. No reason, but baseline.requests < minRequests: wait with "insufficient-data".
// 5. Otherwise promote, with no reasons. Exactly at a threshold is not a breach.
//
// Tests: tests/canary-analysis.test.ts (npm run check week12 release-pipeline).
// Keep the exported names and signatures: the tests import them.

import { NotImplementedError } from "#kata";

export interface CanaryMetrics {
  /** Requests served in the analysis window. */
  readonly requests: number;
  /** Of those, the ones that failed (5xx, timeouts). */
  readonly errors: number;
  /** 99th percentile latency in the window, in ms. */
  readonly p99LatencyMs: number;
}

export interface CanaryPolicy {
  /** Requests each side must have served before they are compared. */
  readonly minRequests: number;
  /** The SLO: an error rate above this fails the canary outright (0.01 = 1 %). */
  readonly maxErrorRate: number;
  /** How much worse than the baseline's the canary's error rate may be (0.005 = half a point). */
  readonly maxErrorRateIncrease: number;
  /** How much slower the canary's p99 may be (1.2 = 20 % slower). */
  readonly maxLatencyRatio: number;
}

export type CanaryReason =
  "insufficient-data" | "error-budget-exhausted" | "error-rate-slo" | "error-rate-regression" | "latency-regression";

export interface CanaryVerdict {
  readonly decision: "promote" | "wait" | "rollback";
  readonly reasons: readonly CanaryReason[];
}

/** Compares the canary with the baseline under the policy: promote, wait or roll back. */
export function judgeCanary(baseline: CanaryMetrics, canary: CanaryMetrics, policy: CanaryPolicy): CanaryVerdict {
  // TODO: validate, then apply the rules of the header in order.
  void baseline;
  void canary;
  void policy;
  throw new NotImplementedError("release-pipeline");
}
