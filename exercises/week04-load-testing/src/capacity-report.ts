/**
 * Kata `capacity-report`: find how much load a server takes before it breaks its promise.
 *
 * Step the arrival rate up through `rates`, running each step with `run` (an open-model run of
 * `stepDurationMs`), and judge each step against the SLO: the p99 of latency from intended start
 * at or below `slo.p99Ms`, and failed / sent at or below `slo.maxErrorRate` (failed = transport
 * errors + timeouts + responses with status >= 400). Stop at the first step that breaks the
 * SLO, or at a step the generator could not keep on schedule (invalid: it says nothing about
 * the server). With `warmupMs`, run the first rate that long beforehand and throw the result
 * away. Then report:
 * - the knee: the last rate before the median latency rose above kneeFactor times the first
 *   step's median (null when it never did);
 * - the last rate that met the SLO, and the first that broke it;
 * - per step, Little's law: while the step runs, sample the server's in-flight gauge every
 *   gaugeIntervalMs; its mean L should match throughput x mean service time (λW).
 *
 * The report is a plain JSON document (no class instances, no NaN); formatText prints it for a
 * terminal, and ./capacity-chart draws it as SVG. Uses your runOpenModel from kata
 * `open-model`. Covered by tests/capacity-report.test.ts.
 *
 * Keep the exported names and signatures: the tests import them.
 */
import { NotImplementedError } from "#kata";
import type { OpenModelOptions, OpenModelResult } from "./open-model";

/** The service-level objective each step is judged by. */
export interface Slo {
  /** The 99th percentile of latency (from intended start) must be at or below this. Positive and finite. */
  p99Ms: number;
  /** Failed requests / sent requests must be at or below this fraction (0.01 = 1 %), from 0 to 1. */
  maxErrorRate: number;
}

/** Runs one step: `ratePerSecond` arrivals per second for `durationMs`. */
export type StepRunner = (ratePerSecond: number, durationMs: number) => Promise<OpenModelResult>;

export interface CapacityOptions {
  /** How a step is run; `openModelSteps(url)` in real use, a fake in tests. */
  run: StepRunner;
  /** The arrival rates to try: at least one, positive and finite, strictly increasing. */
  rates: readonly number[];
  /** How long each step runs. Positive and finite. */
  stepDurationMs: number;
  slo: Slo;
  /** Run the first rate this long before the first step, and discard it: JIT, pools, caches. 0 or more, finite. Default 0. */
  warmupMs?: number;
  /** Reads the server's gauge of requests in progress; sampled during each step for Little's law. */
  inFlight?: () => number;
  /** Milliseconds between two gauge samples: positive, and at most 2^31 - 1 (what a timer can wait). Default 2. */
  gaugeIntervalMs?: number;
  /** A step whose median latency exceeds kneeFactor times the first step's is past the knee. Finite, above 1. Default 2. */
  kneeFactor?: number;
}

/** Little's law for one step: the server's average in-flight count against throughput × time in the server. */
export interface LittlesLawCheck {
  /** L: the mean of the gauge's samples. */
  measuredInFlight: number;
  /** λW: responses per second times the mean service time in seconds. */
  predictedInFlight: number;
  /** |L - λW| / max(L, λW): 0 when they agree, 1 at worst. */
  relativeError: number;
}

export interface StepReport {
  /** The offered arrival rate, per second. */
  rate: number;
  /** False when the generator fell behind its schedule: the step's latency numbers are null. */
  valid: boolean;
  scheduled: number;
  sent: number;
  completed: number;
  /** Requests without a response, timeouts, and responses with status >= 400. */
  failed: number;
  /** failed / sent; 0 when nothing was sent. */
  errorRate: number;
  /** Responses per second over the step, drain included. */
  throughput: number;
  p50Ms: number | null;
  p90Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  /** Mean time from send to response: the W in Little's law. */
  meanServiceMs: number | null;
  littlesLaw: LittlesLawCheck | null;
  metSlo: boolean;
  /**
   * Why the step broke the SLO, one entry per objective broken, with the measured value and the
   * limit: "p99 412.3 ms > 200 ms", "error rate 4.1% > 3.0%" (percentages with one decimal).
   * Empty when it met the SLO, and for an invalid step.
   */
  breaches: string[];
}

/** The JSON document of a capacity test: plain data only. */
export interface CapacityReport {
  slo: Slo;
  kneeFactor: number;
  steps: StepReport[];
  /** The last rate before median latency bent past kneeFactor × the first step's; null if it never bent. */
  knee: number | null;
  /** The highest rate that met the SLO, all lower ones meeting it too; null if the first step broke it. */
  lastRateMeetingSlo: number | null;
  /** The first rate that broke the SLO; null if none did. */
  breakingRate: number | null;
  stoppedBecause: "slo-broken" | "generator-saturated" | "plan-exhausted";
}

/** A StepRunner that runs the open-model generator against `url` with `options`. */
export function openModelSteps(
  url: string,
  options: Omit<OpenModelOptions, "url" | "ratePerSecond" | "durationMs"> = {},
): StepRunner {
  // TODO: one line around runOpenModel.
  void url;
  void options;
  throw new NotImplementedError("capacity-report");
}

/**
 * Steps through `rates` until the SLO breaks or the generator saturates, and reports. Rejects
 * with a RangeError, running nothing, for an option outside its range (see CapacityOptions and
 * Slo); the message names the option (`rates`, `p99Ms`, `maxErrorRate`, ...; in any case, with
 * or without spaces between its words).
 */
export async function runCapacityTest(options: CapacityOptions): Promise<CapacityReport> {
  // TODO: validate; per step: start sampling the gauge, run, stop sampling (even if the run
  // throws), judge; then the knee and the summary.
  void options;
  throw new NotImplementedError("capacity-report");
}

/**
 * The report as plain text:
 * - a first line with the SLO: its p99 in ms ("100 ms") and its error rate as a percentage
 *   with one decimal ("1.0%");
 * - one line per step that starts with its rate and shows, as space-separated columns, its p99
 *   in ms with one decimal, its error rate as a percentage with one decimal ("4.1%"), L and λW
 *   with two decimals, and its verdict ("met", "broken: <why>" or "invalid ..."); a number the
 *   step does not have (no latency on an invalid step, no gauge) is a lone "-";
 * - then the lines "Knee: <rate> req/s" (or "Knee: none ..."), "Last rate meeting the SLO:
 *   <rate> req/s" (or "... none") and "Stopped: <why>": a different reason for each way the
 *   test can stop, naming the breaking rate when the SLO broke and the generator when it fell
 *   behind.
 */
export function formatText(report: CapacityReport): string {
  // TODO: a fixed-width table reads best (String.prototype.padStart).
  void report;
  throw new NotImplementedError("capacity-report");
}
