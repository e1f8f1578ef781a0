// Calls per second through a closed circuit breaker: ours against opossum, the breaker most
// Node services use. Target: at least opossum's rate (ratio >= 1). Both run the same action
// with the same options and a real timeout timer per call; the second case fails every call
// with a threshold no error rate can pass, so the breakers count failures but never open.
import { benchCase } from "#fixtures/bench";
import CircuitBreakerOracle from "opossum";
import { CircuitBreaker } from "../src/circuit-breaker";

const succeed = async () => 42;
const failure = new Error("down");
const fail = async (): Promise<number> => {
  throw failure;
};
const options = { timeoutMs: 10_000, resetTimeoutMs: 30_000, rollingWindowMs: 10_000, buckets: 10 };
const oracleOptions = { timeout: 10_000, resetTimeout: 30_000, rollingCountTimeout: 10_000, rollingCountBuckets: 10 };
const ignore = () => undefined;

{
  const ours = new CircuitBreaker(succeed, options);
  const theirs = new CircuitBreakerOracle(succeed, oracleOptions);
  benchCase("circuit breaker, closed, action resolves", {
    ours: () => ours.fire(),
    yardstick: { library: "opossum", run: () => theirs.fire() },
  });
}

{
  const ours = new CircuitBreaker(fail, { ...options, errorThresholdPercentage: 100 });
  const theirs = new CircuitBreakerOracle(fail, { ...oracleOptions, errorThresholdPercentage: 100 });
  benchCase("circuit breaker, closed, action rejects (threshold 100 %: never opens)", {
    ours: () => ours.fire().catch(ignore),
    yardstick: { library: "opossum", run: () => theirs.fire().catch(ignore) },
  });
}
