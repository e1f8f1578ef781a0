/**
 * A capacity test: offer the server ever higher arrival rates, one step at a time, until its
 * service-level objective breaks; report where latency bent (the knee), the last rate that met
 * the SLO, and whether Little's law holds against the server's own in-flight gauge.
 */
import { type OpenModelOptions, type OpenModelResult, runOpenModel } from "./open-model";

/** The service-level objective each step is judged by. */
export interface Slo {
  /** The 99th percentile of latency (from intended start) must be at or below this. */
  p99Ms: number;
  /** Failed requests / sent requests must be at or below this fraction (0.01 = 1 %). */
  maxErrorRate: number;
}

/** Runs one step: `ratePerSecond` arrivals per second for `durationMs`. */
export type StepRunner = (ratePerSecond: number, durationMs: number) => Promise<OpenModelResult>;

export interface CapacityOptions {
  /** How a step is run; `openModelSteps(url)` in real use, a fake in tests. */
  run: StepRunner;
  /** The arrival rates to try, strictly increasing. */
  rates: readonly number[];
  stepDurationMs: number;
  slo: Slo;
  /** Run the first rate this long before the first step, and discard it: JIT, pools, caches. Default 0. */
  warmupMs?: number;
  /** Reads the server's gauge of requests in progress; sampled during each step for Little's law. */
  inFlight?: () => number;
  /** Milliseconds between two gauge samples. Default 2. */
  gaugeIntervalMs?: number;
  /** A step whose median latency exceeds kneeFactor times the first step's is past the knee. Default 2. */
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

/** A StepRunner that runs the open-model generator against `url`. */
export function openModelSteps(
  url: string,
  options: Omit<OpenModelOptions, "url" | "ratePerSecond" | "durationMs"> = {},
): StepRunner {
  return (ratePerSecond, durationMs) => runOpenModel({ ...options, url, ratePerSecond, durationMs });
}

function validate(options: CapacityOptions): void {
  const { rates, stepDurationMs, slo } = options;
  if (rates.length === 0) throw new RangeError("rates must name at least one step");
  rates.forEach((rate, i) => {
    if (!(rate > 0 && Number.isFinite(rate))) throw new RangeError(`rates must be positive numbers, got ${rate}`);
    if (i > 0 && rate <= rates[i - 1]!) throw new RangeError(`rates must increase: ${rates[i - 1]} then ${rate}`);
  });
  if (!(stepDurationMs > 0 && Number.isFinite(stepDurationMs)))
    throw new RangeError(`stepDurationMs must be positive, got ${stepDurationMs}`);
  // Infinity is no objective at all, and no chart can draw its line.
  if (!(slo.p99Ms > 0 && Number.isFinite(slo.p99Ms)))
    throw new RangeError(`slo.p99Ms must be positive and finite, got ${slo.p99Ms}`);
  if (!(slo.maxErrorRate >= 0 && slo.maxErrorRate <= 1))
    throw new RangeError(`slo.maxErrorRate must be within [0, 1], got ${slo.maxErrorRate}`);
  if (options.kneeFactor !== undefined && !(options.kneeFactor > 1 && Number.isFinite(options.kneeFactor))) {
    throw new RangeError(`kneeFactor must be finite and above 1, got ${options.kneeFactor}`);
  }
  if (options.warmupMs !== undefined && !(options.warmupMs >= 0 && Number.isFinite(options.warmupMs))) {
    throw new RangeError(`warmupMs must be 0 or more, got ${options.warmupMs}`);
  }
  // setInterval turns an Infinity (or anything past 2^31 - 1 ms) into 1 ms: sampling as fast as it can.
  if (
    options.gaugeIntervalMs !== undefined &&
    !(options.gaugeIntervalMs > 0 && options.gaugeIntervalMs <= 2 ** 31 - 1)
  ) {
    throw new RangeError(`gaugeIntervalMs must be positive and at most 2^31 - 1, got ${options.gaugeIntervalMs}`);
  }
}

const ms = (micros: number) => micros / 1000;

/** Samples `read` every `intervalMs` until stopped; returns the mean, or null without samples. */
function startGauge(read: () => number, intervalMs: number): () => number | null {
  let sum = 0;
  let samples = 0;
  const timer = setInterval(() => {
    sum += read();
    samples++;
  }, intervalMs);
  return () => {
    clearInterval(timer);
    return samples === 0 ? null : sum / samples;
  };
}

function failedRequests(result: OpenModelResult): number {
  let failed = result.errors + result.timeouts;
  for (const [status, count] of Object.entries(result.statusCodes)) if (Number(status) >= 400) failed += count;
  return failed;
}

function judgeStep(rate: number, result: OpenModelResult, slo: Slo, measuredInFlight: number | null): StepReport {
  const failed = failedRequests(result);
  const errorRate = result.sent === 0 ? 0 : failed / result.sent;
  const throughput = result.elapsedMs > 0 ? result.completed / (result.elapsedMs / 1000) : 0;
  const base = {
    rate,
    valid: result.valid,
    scheduled: result.scheduled,
    sent: result.sent,
    completed: result.completed,
    failed,
    errorRate,
    throughput,
  };
  if (!result.valid) {
    return {
      ...base,
      p50Ms: null,
      p90Ms: null,
      p99Ms: null,
      maxMs: null,
      meanServiceMs: null,
      littlesLaw: null,
      metSlo: false,
      breaches: [],
    };
  }

  const p99Ms = ms(result.latency.valueAtPercentile(99));
  const meanServiceMs = ms(result.serviceTime.mean);
  const breaches: string[] = [];
  if (p99Ms > slo.p99Ms) breaches.push(`p99 ${p99Ms.toFixed(1)} ms > ${slo.p99Ms} ms`);
  if (errorRate > slo.maxErrorRate)
    breaches.push(`error rate ${(errorRate * 100).toFixed(1)}% > ${(slo.maxErrorRate * 100).toFixed(1)}%`);

  let littlesLaw: LittlesLawCheck | null = null;
  if (measuredInFlight !== null) {
    // Over a window that starts and ends with nothing in flight, the time-average of L equals
    // (requests / window) × mean time in the system exactly; sampling adds the only error.
    const predictedInFlight = throughput * (meanServiceMs / 1000);
    const larger = Math.max(measuredInFlight, predictedInFlight);
    littlesLaw = {
      measuredInFlight,
      predictedInFlight,
      relativeError: larger === 0 ? 0 : Math.abs(measuredInFlight - predictedInFlight) / larger,
    };
  }

  return {
    ...base,
    p50Ms: ms(result.latency.valueAtPercentile(50)),
    p90Ms: ms(result.latency.valueAtPercentile(90)),
    p99Ms,
    maxMs: ms(result.latency.max),
    meanServiceMs,
    littlesLaw,
    metSlo: breaches.length === 0,
    breaches,
  };
}

function findKnee(steps: readonly StepReport[], kneeFactor: number): number | null {
  // An invalid step has no median; it is always the last step, so nothing after it can bend.
  const baseline = steps[0]!.p50Ms;
  for (let i = 1; i < steps.length; i++) {
    const p50 = steps[i]!.p50Ms;
    if (baseline !== null && p50 !== null && p50 > kneeFactor * baseline) return steps[i - 1]!.rate;
  }
  return null;
}

/** Steps through `rates` until the SLO breaks or the generator saturates, and reports. */
export async function runCapacityTest(options: CapacityOptions): Promise<CapacityReport> {
  validate(options);
  const kneeFactor = options.kneeFactor ?? 2;
  const gaugeIntervalMs = options.gaugeIntervalMs ?? 2;
  const steps: StepReport[] = [];
  let stoppedBecause: CapacityReport["stoppedBecause"] = "plan-exhausted";

  // The first seconds of any run measure cold code and empty pools, not the server's capacity.
  if (options.warmupMs) await options.run(options.rates[0]!, options.warmupMs);

  for (const rate of options.rates) {
    const stopGauge = options.inFlight ? startGauge(options.inFlight, gaugeIntervalMs) : () => null;
    let result: OpenModelResult;
    let measured: number | null;
    try {
      result = await options.run(rate, options.stepDurationMs);
    } finally {
      // Stopped even when the step throws: a leaked interval would keep the process alive.
      measured = stopGauge();
    }
    const step = judgeStep(rate, result, options.slo, measured);
    steps.push(step);
    if (!step.valid) {
      stoppedBecause = "generator-saturated";
      break;
    }
    if (!step.metSlo) {
      stoppedBecause = "slo-broken";
      break;
    }
  }

  const firstMiss = steps.findIndex((step) => !step.metSlo);
  const meeting = firstMiss === -1 ? steps : steps.slice(0, firstMiss);
  const breaking = steps.find((step) => step.valid && !step.metSlo);
  return {
    slo: { ...options.slo },
    kneeFactor,
    steps,
    knee: findKnee(steps, kneeFactor),
    lastRateMeetingSlo: meeting.at(-1)?.rate ?? null,
    breakingRate: breaking?.rate ?? null,
    stoppedBecause,
  };
}

const pad = (text: string, width: number) => text.padStart(width);

/**
 * The report as plain text: a header with the SLO, one line per step (rate first, then sent,
 * throughput, p50, p99, error rate, Little's law, verdict), then the Knee, Last rate meeting the
 * SLO and Stopped lines.
 */
export function formatText(report: CapacityReport): string {
  const { slo } = report;
  const lines = [
    `Capacity test: SLO p99 <= ${slo.p99Ms} ms, error rate <= ${(slo.maxErrorRate * 100).toFixed(1)}%`,
    // Stryker disable next-line StringLiteral: column headings are presentation, read by people only
    `${pad("rate/s", 8)} ${pad("sent", 7)} ${pad("resp/s", 8)} ${pad("p50 ms", 9)} ${pad("p99 ms", 9)} ${pad("errors", 7)}  ${pad("L", 6)} ${pad("λW", 6)}  result`,
  ];
  for (const step of report.steps) {
    const latency = (value: number | null) => pad(value === null ? "-" : value.toFixed(1), 9);
    const little = step.littlesLaw;
    const verdict = !step.valid
      ? "invalid (generator behind schedule)"
      : step.metSlo
        ? "met"
        : `broken: ${step.breaches.join("; ")}`;
    lines.push(
      [
        pad(String(step.rate), 8),
        pad(String(step.sent), 7),
        pad(step.throughput.toFixed(1), 8),
        latency(step.p50Ms),
        latency(step.p99Ms),
        pad(`${(step.errorRate * 100).toFixed(1)}%`, 7),
        ` ${pad(little ? little.measuredInFlight.toFixed(2) : "-", 6)}`,
        pad(little ? little.predictedInFlight.toFixed(2) : "-", 6),
        ` ${verdict}`,
      ].join(" "),
    );
  }
  const rateOrNone = (rate: number | null, none: string) => (rate === null ? none : `${rate} req/s`);
  lines.push(`Knee: ${rateOrNone(report.knee, "none within the plan")}`);
  lines.push(`Last rate meeting the SLO: ${rateOrNone(report.lastRateMeetingSlo, "none")}`);
  const stopped = {
    "slo-broken": `the SLO broke at ${report.breakingRate} req/s`,
    "generator-saturated": "the generator fell behind its schedule; higher rates would measure the generator",
    "plan-exhausted": "every planned rate met the SLO",
  }[report.stoppedBecause];
  lines.push(`Stopped: ${stopped}`);
  return lines.join("\n") + "\n";
}
