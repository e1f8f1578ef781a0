// Reference solution for the `release-pipeline` kata, part 2: the canary judge that an
// automated rollout asks, every analysis interval, whether to promote, wait or roll back.

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

function validMetrics(side: string, m: CanaryMetrics): void {
  if (!Number.isInteger(m.requests) || m.requests < 0) throw new RangeError(`${side}.requests must be an integer >= 0`);
  if (!Number.isInteger(m.errors) || m.errors < 0 || m.errors > m.requests) {
    throw new RangeError(`${side}.errors must be an integer from 0 to requests`);
  }
  if (!Number.isFinite(m.p99LatencyMs) || m.p99LatencyMs < 0) {
    throw new RangeError(`${side}.p99LatencyMs must be finite and >= 0`);
  }
}

function validPolicy(p: CanaryPolicy): void {
  if (!Number.isInteger(p.minRequests) || p.minRequests < 1) {
    throw new RangeError("minRequests must be an integer >= 1");
  }
  const fraction = (x: number) => x >= 0 && x <= 1; // false for NaN too
  if (!fraction(p.maxErrorRate)) throw new RangeError("maxErrorRate must be in [0, 1]");
  if (!fraction(p.maxErrorRateIncrease)) throw new RangeError("maxErrorRateIncrease must be in [0, 1]");
  if (!Number.isFinite(p.maxLatencyRatio) || p.maxLatencyRatio < 1) {
    throw new RangeError("maxLatencyRatio must be finite and >= 1");
  }
}

const verdict = (decision: CanaryVerdict["decision"], reasons: CanaryReason[]): CanaryVerdict => ({
  decision,
  reasons,
});

/** Compares the canary with the baseline under the policy: promote, wait or roll back. */
export function judgeCanary(baseline: CanaryMetrics, canary: CanaryMetrics, policy: CanaryPolicy): CanaryVerdict {
  validMetrics("baseline", baseline);
  validMetrics("canary", canary);
  validPolicy(policy);

  if (canary.requests < policy.minRequests) {
    // The SLO allows maxErrorRate * minRequests errors in the whole sample: past that, no
    // outcome of the requests still to come can save this canary, so stop exposing users.
    const budget = policy.maxErrorRate * policy.minRequests;
    if (canary.errors > budget) return verdict("rollback", ["error-budget-exhausted"]);
    return verdict("wait", ["insufficient-data"]);
  }

  const reasons: CanaryReason[] = [];
  const canaryRate = canary.errors / canary.requests;
  if (canaryRate > policy.maxErrorRate) reasons.push("error-rate-slo");
  const comparable = baseline.requests >= policy.minRequests;
  if (comparable) {
    const increase = canaryRate - baseline.errors / baseline.requests;
    if (increase > policy.maxErrorRateIncrease) reasons.push("error-rate-regression");
    if (canary.p99LatencyMs > baseline.p99LatencyMs * policy.maxLatencyRatio) reasons.push("latency-regression");
  }
  if (reasons.length > 0) return verdict("rollback", reasons);
  return comparable ? verdict("promote", []) : verdict("wait", ["insufficient-data"]);
}
