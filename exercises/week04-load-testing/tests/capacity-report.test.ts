import { XMLParser, XMLValidator } from "fast-xml-parser";
import { afterAll, describe, expect, it } from "vitest";
import { renderSvg } from "../src/capacity-chart";
import {
  type CapacityOptions,
  formatText,
  openModelSteps,
  runCapacityTest,
  type StepRunner,
} from "../src/capacity-report";
import { Histogram } from "../src/histogram";
import type { OpenModelResult } from "../src/open-model";
import { mentions } from "#fixtures/messages";
import { closeAllServers, startPoolServer } from "./support/servers";

/** What a fake step "measured": latencies in ms, one per response. */
interface FakeStep {
  latencyMs: number[];
  serviceMs?: number[];
  statusCodes?: Record<string, number>;
  errors?: number;
  timeouts?: number;
  valid?: boolean;
  elapsedMs?: number;
}

function histogramOf(valuesMs: readonly number[]): Histogram {
  const histogram = new Histogram({ highestTrackableValue: 3_600_000_000, significantFigures: 3 });
  for (const v of valuesMs) histogram.recordValue(Math.round(v * 1000));
  return histogram;
}

/** n responses: the first ones at `fast` ms, the slowest `slowCount` at `slow` ms. */
function latencies(n: number, fast: number, slow = fast, slowCount = 0): number[] {
  return Array.from({ length: n }, (_, i) => (i >= n - slowCount ? slow : fast));
}

function fakeResult(step: FakeStep): OpenModelResult {
  const completed = step.latencyMs.length;
  const errors = step.errors ?? 0;
  const timeouts = step.timeouts ?? 0;
  const sent = completed + errors + timeouts;
  const errorsByCode: Record<string, number> = errors > 0 ? { ECONNRESET: errors } : {};
  const counts = {
    scheduled: sent,
    sent,
    completed,
    statusCodes: step.statusCodes ?? { "200": completed },
    errors,
    errorsByCode,
    timeouts,
    maxScheduleLagMs: step.valid === false ? 500 : 1,
    elapsedMs: step.elapsedMs ?? 1_000,
  };
  if (step.valid === false) return { ...counts, valid: false, reason: "fell behind" };
  return {
    ...counts,
    valid: true,
    latency: histogramOf(step.latencyMs),
    serviceTime: histogramOf(step.serviceMs ?? step.latencyMs),
  };
}

/** A runner that replays canned steps by rate, and remembers what it was asked to run. */
function fakeRunner(byRate: Record<number, FakeStep>): StepRunner & { calls: Array<[number, number]> } {
  const calls: Array<[number, number]> = [];
  const run = async (rate: number, durationMs: number) => {
    calls.push([rate, durationMs]);
    const step = byRate[rate];
    if (!step) throw new Error(`the test has no canned step for ${rate}/s`);
    return fakeResult(step);
  };
  return Object.assign(run, { calls });
}

const SLO = { p99Ms: 100, maxErrorRate: 0.01 };

/**
 * A gauge that always reads `value`, and a way for a fake step to last until the gauge has
 * been read at least once: however busy the machine, every step then has a sample.
 */
function steadyGauge(value: number) {
  let wake: (() => void) | undefined;
  let read = false;
  return {
    inFlight: () => {
      read = true;
      wake?.();
      return value;
    },
    sampled: () => (read ? Promise.resolve() : new Promise<void>((resolve) => (wake = resolve))),
    reset: () => {
      read = false;
      wake = undefined;
    },
  };
}

/** Chart coordinates may be rounded: two pixels of slack. */
const within2px = (expected: number) => (actual: number) => Math.abs(actual - expected) <= 2;

/** Runs `make` once, on first call, and hands every caller the same promise. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined;
  return () => (promise ??= make());
}

/** 10/s to 80/s flat at ~20 ms, then 160/s far past the SLO. */
const HEALTHY_THEN_BROKEN: Record<number, FakeStep> = {
  10: { latencyMs: latencies(100, 20) },
  20: { latencyMs: latencies(100, 21) },
  40: { latencyMs: latencies(100, 22, 40, 2) },
  80: { latencyMs: latencies(100, 30, 90, 5) },
  160: { latencyMs: latencies(100, 250, 900, 30) },
  320: { latencyMs: latencies(100, 2_000) },
};

async function capacity(byRate: Record<number, FakeStep>, options: Partial<CapacityOptions> = {}) {
  const run = fakeRunner(byRate);
  const report = await runCapacityTest({
    run,
    rates: Object.keys(byRate).map(Number),
    stepDurationMs: 500,
    slo: SLO,
    ...options,
  });
  return { report, calls: run.calls };
}

describe("stepping up the load", () => {
  it("runs the steps in order, each for stepDurationMs, and stops at the first that breaks the SLO", async () => {
    const { report, calls } = await capacity(HEALTHY_THEN_BROKEN);
    expect(calls, "320/s is never run: past the breaking point it only punishes the server").toEqual([
      [10, 500],
      [20, 500],
      [40, 500],
      [80, 500],
      [160, 500],
    ]);
    expect(report.steps.map((s) => s.rate)).toEqual([10, 20, 40, 80, 160]);
    expect(report.steps.map((s) => s.metSlo)).toEqual([true, true, true, true, false]);
    expect(report.lastRateMeetingSlo).toBe(80);
    expect(report.breakingRate).toBe(160);
    expect(report.stoppedBecause).toBe("slo-broken");
  });

  it("reports each step's percentiles in milliseconds and explains a breach", async () => {
    const { report } = await capacity(HEALTHY_THEN_BROKEN);
    const broken = report.steps.at(-1)!;
    expect(broken.p50Ms, "latency histograms hold microseconds; the report speaks milliseconds").toBeCloseTo(250, 0);
    expect(broken.p99Ms).toBeCloseTo(900, 0);
    expect(broken.maxMs).toBeCloseTo(900, 0);
    expect(broken.breaches).toHaveLength(1);
    expect(broken.breaches[0], "a breach names the objective, the measured value and the limit").toMatch(
      /p99.*9\d\d.*100/,
    );
    expect(report.steps[0]!.breaches).toEqual([]);
  });

  it("breaks the SLO on the error rate alone, counting transport errors, timeouts and statuses of 400 and above", async () => {
    const { report } = await capacity(
      {
        10: {
          latencyMs: latencies(96, 5),
          statusCodes: { "200": 90, "302": 4, "400": 1, "404": 1 },
          errors: 1,
          timeouts: 1,
        },
      },
      { slo: { p99Ms: 100, maxErrorRate: 0.03 } },
    );
    const step = report.steps[0]!;
    expect(step.sent).toBe(98);
    expect(step.failed, "2 responses >= 400, 1 error, 1 timeout; a 302 is not a failure").toBe(4);
    expect(step.errorRate).toBeCloseTo(4 / 98, 9);
    expect(step.metSlo, "fast responses do not excuse 4% failures under a 3% objective").toBe(false);
    expect(step.breaches).toHaveLength(1);
    expect(step.breaches[0]).toMatch(/error rate/i);
    expect(step.breaches[0], "the measured rate and the objective, as percentages with one decimal").toContain("4.1%");
    expect(step.breaches[0]).toContain("3.0%");
    expect(report.breakingRate).toBe(10);
    expect(report.lastRateMeetingSlo, "the very first step broke the SLO").toBeNull();
  });

  it("judges the p99 on latency from the intended start, not on the time in the server", async () => {
    // The server answered in 5 ms, but requests waited 300 ms for a free connection first.
    const { report } = await capacity({ 10: { latencyMs: latencies(100, 300), serviceMs: latencies(100, 5) } });
    expect(
      report.steps[0]!.p99Ms,
      "the user waited 300 ms; the service time is the closed-model number that hides the queue",
    ).toBeCloseTo(300, 0);
    expect(
      report.steps[0]!.metSlo,
      "a 300 ms wait breaks a 100 ms objective, however fast the server was once reached",
    ).toBe(false);
  });

  it("treats a p99 exactly at the objective as meeting it", async () => {
    const { report } = await capacity(
      { 10: { latencyMs: latencies(100, 2) } },
      { slo: { p99Ms: 2, maxErrorRate: 0.01 } },
    );
    expect(report.steps[0]!.p99Ms).toBe(2);
    expect(report.steps[0]!.metSlo, "the objective says 'at or below'").toBe(true);
  });

  it("treats an error rate exactly at the objective as meeting it", async () => {
    const { report } = await capacity(
      { 10: { latencyMs: latencies(95, 5), statusCodes: { "200": 90, "500": 5 }, errors: 5 } },
      { slo: { p99Ms: 100, maxErrorRate: 0.1 } },
    );
    expect(report.steps[0]!.errorRate).toBeCloseTo(0.1, 12);
    expect(report.steps[0]!.metSlo, "the objective says 'at or below'").toBe(true);
  });

  it("runs the whole plan when no step breaks the SLO", async () => {
    const { report, calls } = await capacity({
      10: HEALTHY_THEN_BROKEN[10]!,
      20: HEALTHY_THEN_BROKEN[20]!,
      40: HEALTHY_THEN_BROKEN[40]!,
    });
    expect(calls).toHaveLength(3);
    expect(report.stoppedBecause).toBe("plan-exhausted");
    expect(report.breakingRate).toBeNull();
    expect(report.lastRateMeetingSlo).toBe(40);
  });

  it("stops when the generator falls behind, without blaming the server", async () => {
    const { report, calls } = await capacity({
      10: HEALTHY_THEN_BROKEN[10]!,
      20: HEALTHY_THEN_BROKEN[20]!,
      40: { latencyMs: [], valid: false },
      80: HEALTHY_THEN_BROKEN[80]!,
    });
    expect(calls.map(([rate]) => rate)).toEqual([10, 20, 40]);
    expect(report.stoppedBecause).toBe("generator-saturated");
    const last = report.steps.at(-1)!;
    expect(last.valid).toBe(false);
    expect([last.p50Ms, last.p99Ms, last.maxMs], "an invalid step has no latency numbers to show").toEqual([
      null,
      null,
      null,
    ]);
    expect(last.metSlo).toBe(false);
    expect(last.breaches, "no objective was measured, so none was broken").toEqual([]);
    expect(report.breakingRate, "the server did not break the SLO; the generator could not tell").toBeNull();
    expect(report.lastRateMeetingSlo).toBe(20);
  });

  it("refuses an empty or non-increasing plan and an impossible SLO without running a step, naming the option", async () => {
    const run = fakeRunner({});
    const bad: Array<[Partial<CapacityOptions>, string]> = [
      [{ rates: [] }, "rates"],
      [{ rates: [10, 10] }, "rates"],
      [{ rates: [20, 10] }, "rates"],
      [{ rates: [0, 10] }, "rates"],
      [{ rates: [10, Number.POSITIVE_INFINITY] }, "rates"],
      [{ slo: { p99Ms: 0, maxErrorRate: 0.01 } }, "p99Ms"],
      [{ slo: { p99Ms: Number.POSITIVE_INFINITY, maxErrorRate: 0.01 } }, "p99Ms"],
      [{ slo: { p99Ms: 100, maxErrorRate: 1.5 } }, "maxErrorRate"],
      [{ slo: { p99Ms: 100, maxErrorRate: -0.1 } }, "maxErrorRate"],
      [{ stepDurationMs: 0 }, "stepDurationMs"],
      [{ kneeFactor: 1 }, "kneeFactor"],
      [{ gaugeIntervalMs: 0 }, "gaugeIntervalMs"],
      [{ gaugeIntervalMs: Number.POSITIVE_INFINITY }, "gaugeIntervalMs"],
      [{ gaugeIntervalMs: 2 ** 31 }, "gaugeIntervalMs"],
    ];
    for (const [options, name] of bad) {
      const attempt = () => runCapacityTest({ run, rates: [10], stepDurationMs: 500, slo: SLO, ...options });
      await expect(attempt(), JSON.stringify(options)).rejects.toThrow(RangeError);
      await expect(attempt(), `the message names the option at fault (${name})`).rejects.toThrow(mentions(name));
    }
    expect(run.calls).toEqual([]);
  });

  it("warms up at the first rate for warmupMs and leaves the warm-up out of the report", async () => {
    const { report, calls } = await capacity(
      { 10: HEALTHY_THEN_BROKEN[10]!, 20: HEALTHY_THEN_BROKEN[20]! },
      { warmupMs: 300 },
    );
    expect(calls, "one warm-up run of 300 ms at the first rate, then the steps").toEqual([
      [10, 300],
      [10, 500],
      [20, 500],
    ]);
    expect(
      report.steps.map((s) => s.rate),
      "cold code and empty pools are not the server's capacity",
    ).toEqual([10, 20]);
    await expect(
      capacity({ 10: HEALTHY_THEN_BROKEN[10]! }, { warmupMs: -1 }),
      "a negative warm-up is a RangeError naming warmupMs",
    ).rejects.toThrow(mentions("warmupMs"));
    const { calls: cold } = await capacity({ 10: HEALTHY_THEN_BROKEN[10]! }, { warmupMs: 0 });
    expect(cold, "warmupMs 0 means no warm-up").toEqual([[10, 500]]);
  });

  it("accepts the longest gauge interval a timer can wait, 2^31 - 1 ms", async () => {
    const { report } = await capacity(
      { 10: HEALTHY_THEN_BROKEN[10]! },
      { inFlight: () => 1, gaugeIntervalMs: 2 ** 31 - 1 },
    );
    expect(report.steps[0]!.littlesLaw, "no sample within the step: no check, and no error either").toBeNull();
  });

  it("accepts the strictest and the loosest error objectives, 0 and 1", async () => {
    for (const maxErrorRate of [0, 1]) {
      const { report } = await capacity({ 10: HEALTHY_THEN_BROKEN[10]! }, { slo: { p99Ms: 100, maxErrorRate } });
      expect(report.steps[0]!.metSlo, `maxErrorRate ${maxErrorRate} with no failures`).toBe(true);
    }
  });
});

describe("the knee", () => {
  it("is the last rate before the median latency exceeds kneeFactor times the first step's", async () => {
    const steps = {
      10: { latencyMs: latencies(100, 10) },
      20: { latencyMs: latencies(100, 12) },
      40: { latencyMs: latencies(100, 19) },
      80: { latencyMs: latencies(100, 35) },
      160: { latencyMs: latencies(100, 60) },
    };
    const { report } = await capacity(steps, { slo: { p99Ms: 1_000, maxErrorRate: 0.01 } });
    expect(report.knee, "19 ms is within 2 x 10 ms; 35 ms is not: the curve bends after 40/s").toBe(40);
    expect(report.stoppedBecause, "the knee comes before the SLO breaks: here it never does").toBe("plan-exhausted");
    const { report: tolerant } = await capacity(steps, { slo: { p99Ms: 1_000, maxErrorRate: 0.01 }, kneeFactor: 4 });
    expect(tolerant.knee, "with kneeFactor 4 the bend comes at 60 ms > 40 ms, after 80/s").toBe(80);
  });

  it("counts a median of exactly kneeFactor times the first as still flat", async () => {
    // 1 ms and 2 ms are recorded exactly (below 2048 us every microsecond has its own slot).
    const { report } = await capacity({
      10: { latencyMs: latencies(100, 1) },
      20: { latencyMs: latencies(100, 2) },
      40: { latencyMs: latencies(100, 3) },
    });
    expect(report.knee, "2 ms is not more than 2 x 1 ms; 3 ms is").toBe(20);
  });

  it("is null when the first step is invalid: there is no baseline", async () => {
    const { report } = await capacity({ 10: { latencyMs: [], valid: false } });
    expect(report.knee).toBeNull();
  });

  it("is null when latency never bends within the plan", async () => {
    const { report } = await capacity({
      10: HEALTHY_THEN_BROKEN[10]!,
      20: HEALTHY_THEN_BROKEN[20]!,
      40: HEALTHY_THEN_BROKEN[40]!,
    });
    expect(report.knee).toBeNull();
  });
});

describe("the report as plain text and as JSON", () => {
  it("prints one line per step, starting with its rate, with its p99 and verdict, then the knee and the last rate meeting the SLO", async () => {
    const { report } = await capacity(HEALTHY_THEN_BROKEN);
    const text = formatText(report);
    const lines = text.split("\n");
    for (const step of report.steps) {
      const line = lines.find((l) => l.trim().startsWith(`${step.rate} `));
      expect(line, `no line starts with the rate ${step.rate}`).toBeDefined();
      expect(line, "the step's p99 with one decimal").toContain(step.p99Ms!.toFixed(1));
      expect(line).toMatch(step.metSlo ? /\bmet\b/ : /\bbroken\b/);
    }
    expect(text).toMatch(/^Knee: 80 req\/s/m);
    expect(text).toMatch(/^Last rate meeting the SLO: 80 req\/s/m);
    expect(text, "the reader learns where and why it broke").toMatch(/^Stopped: .*160/m);
  });

  it("shows each step's error rate and, with a gauge, L and λW; says which steps were invalid", async () => {
    const gauge = steadyGauge(1.5);
    const run: StepRunner = async (rate) => {
      gauge.reset();
      await gauge.sampled();
      if (rate === 40) return fakeResult({ latencyMs: [], valid: false });
      return fakeResult({
        latencyMs: latencies(96, 10),
        statusCodes: { "200": 95, "503": 1 },
        errors: 4,
        elapsedMs: 500,
      });
    };
    const report = await runCapacityTest({
      run,
      rates: [10, 40],
      stepDurationMs: 500,
      slo: { p99Ms: 100, maxErrorRate: 0.1 },
      inFlight: gauge.inFlight,
    });
    const text = formatText(report);
    const lines = text.split("\n");
    expect(lines[0], "a header states the SLO").toMatch(/100 ms/);
    expect(lines[0]).toContain("10.0%");
    const first = lines.find((l) => l.trim().startsWith("10 "))!;
    expect(first, "5 of 100 failed").toContain("5.0%");
    expect(first, "L from the gauge, with two decimals").toContain("1.50");
    expect(first, "λW = 192/s x 0.010 s").toContain("1.92");
    const invalid = lines.find((l) => l.trim().startsWith("40 "))!;
    expect(invalid, "the invalid step says so").toMatch(/invalid/);
    expect(
      invalid
        .trim()
        .split(/\s+/)
        .filter((cell) => cell === "-").length,
      "and a dash for each number it does not have: its p99, L and λW at least",
    ).toBeGreaterThanOrEqual(3);
    const { report: noGauge } = await capacity({ 10: HEALTHY_THEN_BROKEN[10]! });
    const plain = formatText(noGauge)
      .split("\n")
      .find((l) => l.trim().startsWith("10 "))!;
    expect(
      plain
        .trim()
        .split(/\s+/)
        .filter((cell) => cell === "-").length,
      "no gauge: a dash for L and one for λW",
    ).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/^Stopped: .*generator/im);
  });

  it("gives a different reason for each way the test can stop", async () => {
    const texts = await Promise.all([
      capacity(HEALTHY_THEN_BROKEN),
      capacity({ 10: HEALTHY_THEN_BROKEN[10]!, 20: { latencyMs: [], valid: false } }),
      capacity({ 10: HEALTHY_THEN_BROKEN[10]! }),
    ]).then((runs) =>
      runs.map(({ report }) =>
        formatText(report)
          .split("\n")
          .find((l) => l.startsWith("Stopped:")),
      ),
    );
    expect(new Set(texts).size, texts.join(" | ")).toBe(3);
    for (const line of texts) expect(line, "each reason is spelled out").toMatch(/^Stopped: \S.{8,}/);
  });

  it("says 'none' where there is no knee or no good rate", async () => {
    const { report } = await capacity({ 10: { latencyMs: latencies(100, 500) } });
    const text = formatText(report);
    expect(text).toMatch(/^Knee: none/m);
    expect(text).toMatch(/^Last rate meeting the SLO: none/m);
  });

  it("is a plain JSON document: it survives JSON.stringify and JSON.parse unchanged", async () => {
    const { report } = await capacity(HEALTHY_THEN_BROKEN);
    expect(
      JSON.parse(JSON.stringify(report)),
      "no histograms, functions, undefined, NaN or Infinity in the document",
    ).toStrictEqual(report);
    const { report: invalid } = await capacity({ 10: { latencyMs: [], valid: false } });
    expect(JSON.parse(JSON.stringify(invalid))).toStrictEqual(invalid);
    const { report: instant } = await capacity({ 10: { latencyMs: latencies(10, 1), elapsedMs: 0 } });
    expect(instant.steps[0]!.throughput, "no time passed: 0 responses per second, not Infinity").toBe(0);
    expect(JSON.parse(JSON.stringify(instant))).toStrictEqual(instant);
  });
});

describe("the SVG chart", () => {
  // Rendered afresh by every test (it takes microseconds), so each test fails on its own.
  const chart = async () => {
    const { report } = await capacity(HEALTHY_THEN_BROKEN);
    const svg = renderSvg(report, { title: "orders <api> & friends" });
    const parsed: Record<string, any> = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(svg);
    const points = (series: string) => {
      const polylines = [parsed.svg.polyline]
        .flat()
        .filter((p: Record<string, string> | undefined) => p?.["data-series"] === series);
      expect(polylines, `one <polyline data-series="${series}">`).toHaveLength(1);
      return (polylines[0].points as string)
        .trim()
        .split(/\s+/)
        .map((pair) => pair.split(",").map(Number) as [number, number]);
    };
    const line = (role: string) =>
      [parsed.svg.line].flat().find((l: Record<string, string> | undefined) => l?.["data-role"] === role);
    return { report, svg, parsed, points, line };
  };

  /** Numbers written as text on the chart, with where they sit: the axis labels. */
  const numericLabels = (parsed: Record<string, any>) =>
    [parsed.svg.text]
      .flat()
      .filter((t: unknown) => t !== undefined)
      .map((t: unknown) => {
        const node = typeof t === "object" && t !== null ? (t as Record<string, unknown>) : { "#text": t };
        return { value: Number(node["#text"]), x: Number(node.x), y: Number(node.y), text: node["#text"] };
      })
      .filter((l) => (typeof l.text === "string" || typeof l.text === "number") && Number.isFinite(l.value));

  it("is a well-formed standalone SVG document, with the title escaped", async () => {
    const { svg, parsed } = await chart();
    expect(XMLValidator.validate(svg), "the chart must parse as XML: escape <, & and quotes in text").toBe(true);
    expect(parsed.svg.xmlns).toBe("http://www.w3.org/2000/svg");
    expect(parsed.svg.viewBox, "a viewBox lets the chart scale").toMatch(/^0 0 \d+ \d+$/);
    expect(svg).toContain("orders &lt;api&gt; &amp; friends");
    const quoted = renderSvg((await chart()).report, { title: `"quoted" & 'single'` });
    expect(XMLValidator.validate(quoted)).toBe(true);
    const title = new XMLParser().parse(quoted).svg.title;
    expect(title, "the reader sees the title exactly as given").toBe(`"quoted" & 'single'`);
  });

  it("maps rate and latency linearly onto the drawing, inside its bounds", async () => {
    const { report, parsed, points } = await chart();
    const [width, height] = [Number(parsed.svg.width), Number(parsed.svg.height)];
    const p50 = points("p50");
    const p99 = points("p99");
    for (const [x, y] of [...p50, ...p99]) {
      expect(x, "every point lies inside the drawing").toBeGreaterThan(0);
      expect(x).toBeLessThan(width);
      expect(y).toBeGreaterThan(0);
      expect(y).toBeLessThan(height);
    }
    const rates = report.steps.map((s) => s.rate);
    const xPerRate = (p50.at(-1)![0] - p50[0]![0]) / (rates.at(-1)! - rates[0]!);
    rates.forEach((rate, i) =>
      expect(p50[i]![0], `x of ${rate}/s on a linear axis`).toSatisfy(
        within2px(p50[0]![0] + (rate - rates[0]!) * xPerRate),
      ),
    );
    const latencies99 = report.steps.map((s) => s.p99Ms!);
    const yPerMs = (p99[0]![1] - p99.at(-1)![1]) / (latencies99.at(-1)! - latencies99[0]!);
    latencies99.forEach((ms, i) =>
      expect(p99[i]![1], `y of ${ms} ms on a linear axis`).toSatisfy(
        within2px(p99[0]![1] - (ms - latencies99[0]!) * yPerMs),
      ),
    );
    const p50Ms = report.steps.map((s) => s.p50Ms!);
    p50Ms.forEach((ms, i) =>
      expect(p50[i]![1], "p50 and p99 share one latency axis").toSatisfy(
        within2px(p99[0]![1] - (ms - latencies99[0]!) * yPerMs),
      ),
    );
  });

  it("puts a dot with a tooltip on every step, and marks the steps that broke the SLO", async () => {
    const { report, parsed } = await chart();
    const dots = [parsed.svg.circle].flat().filter((c: Record<string, any>) => c["data-series"] === "p99");
    expect(dots).toHaveLength(report.steps.length);
    report.steps.forEach((step, i) => {
      expect(String(dots[i].title), "the tooltip names the rate and the value").toContain(`${step.rate}/s`);
      expect(String(dots[i].title)).toContain(step.p99Ms!.toFixed(1));
      expect(
        String(dots[i].class ?? "")
          .split(/\s+/)
          .includes("broken"),
        `${step.rate}/s ${step.metSlo ? "met" : "broke"} the SLO`,
      ).toBe(!step.metSlo);
    });
  });

  it("names the SLO and the knee on the chart, and has a title even when none is given", async () => {
    const { report } = await chart();
    const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(renderSvg(report));
    const title: unknown = parsed.svg.title;
    const titleText = String(
      typeof title === "object" && title !== null ? ((title as Record<string, unknown>)["#text"] ?? "") : (title ?? ""),
    );
    expect(titleText.trim().length, "a chart without a title is hard to share").toBeGreaterThan(0);
    const texts = [parsed.svg.text]
      .flat()
      .map((t: unknown) => String(typeof t === "object" && t !== null ? (t as Record<string, unknown>)["#text"] : t));
    expect(
      texts.some((t) => /SLO/.test(t) && t.includes(String(report.slo.p99Ms))),
      "a label says what the dashed line is",
    ).toBe(true);
    expect(
      texts.some((t) => /knee/i.test(t) && t.includes(String(report.knee))),
      "a label says where the knee is",
    ).toBe(true);
  });

  it("labels both axes with numbers from 0 past the largest value: rates below the plot, latencies to its left", async () => {
    const { report, parsed, points } = await chart();
    const labels = numericLabels(parsed);
    const plotted = [...points("p50"), ...points("p99")];
    const lowest = Math.max(...plotted.map(([, y]) => y));
    const leftmost = Math.min(...plotted.map(([x]) => x));
    const xAxis = labels.filter((l) => l.y > lowest).sort((a, b) => a.x - b.x);
    const yAxis = labels.filter((l) => l.x < leftmost).sort((a, b) => b.y - a.y);
    const highestRate = Math.max(...report.steps.map((s) => s.rate));
    const highestP99 = Math.max(...report.steps.map((s) => s.p99Ms!));
    for (const [name, axis, highest] of [
      ["the rate axis, below the plot,", xAxis, highestRate],
      ["the latency axis, left of the plot,", yAxis, highestP99],
    ] as const) {
      const values = axis.map((l) => l.value);
      expect(values, `${name} has numeric tick labels (each a <text> holding only the number)`).not.toEqual([]);
      expect(values, `${name} starts at 0`).toContain(0);
      expect(Math.max(...values), `${name} reaches past the largest value, ${highest}`).toBeGreaterThanOrEqual(highest);
      expect(values, `${name} counts upwards: left to right for rates, bottom to top for latency`).toEqual(
        [...values].sort((a, b) => a - b),
      );
    }
  });

  it("takes its size from the options, and plots only the steps that have numbers", async () => {
    const { report } = await chart();
    const withInvalid = {
      ...report,
      steps: [
        ...report.steps.slice(0, 3),
        { ...report.steps[3]!, valid: false, p50Ms: null, p90Ms: null, p99Ms: null, maxMs: null },
      ],
    };
    const svg = renderSvg(withInvalid, { width: 1000, height: 500 });
    const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(svg);
    expect([parsed.svg.width, parsed.svg.viewBox]).toEqual(["1000", "0 0 1000 500"]);
    const p99 = [parsed.svg.polyline].flat().find((p: Record<string, string>) => p["data-series"] === "p99");
    expect(p99.points.trim().split(/\s+/), "an invalid step has no latency to plot").toHaveLength(3);
    for (const pair of p99.points.trim().split(/\s+/)) expect(Number(pair.split(",")[0])).toBeLessThan(1000);
  });

  it("draws p50 and p99 with one point per step, left to right by rate", async () => {
    const { report, points } = await chart();
    for (const series of ["p50", "p99"]) {
      const xy = points(series);
      expect(xy).toHaveLength(report.steps.length);
      for (let i = 1; i < xy.length; i++)
        expect(xy[i]![0], `${series}: a higher rate is further right`).toBeGreaterThan(xy[i - 1]![0]);
    }
  });

  it("puts higher latency higher on the chart, and the SLO line between the healthy and the broken p99", async () => {
    const { points, line } = await chart();
    const p99 = points("p99");
    expect(p99.at(-1)![1], "SVG's y grows downwards: 900 ms must sit above 20 ms").toBeLessThan(p99[0]![1]);
    const slo = line("slo");
    expect(slo, 'a <line data-role="slo"> marks the objective').toBeDefined();
    expect(Number(slo.y1), "the SLO line is horizontal").toBe(Number(slo.y2));
    expect(Number(slo.y1)).toBeLessThan(p99[0]![1]);
    expect(Number(slo.y1)).toBeGreaterThan(p99.at(-1)![1]);
    const { report } = await chart();
    const first = report.steps[0]!.p99Ms!;
    const last = report.steps.at(-1)!.p99Ms!;
    const sloY = p99[0]![1] - ((report.slo.p99Ms - first) * (p99[0]![1] - p99.at(-1)![1])) / (last - first);
    expect(Number(slo.y1), "at the height of 100 ms on the same axis as the points").toSatisfy(within2px(sloY));
    expect(Number(slo.x2), "across the plot").toBeGreaterThan(Number(slo.x1));
    const { parsed } = await chart();
    for (const x of [Number(slo.x1), Number(slo.x2)]) {
      const inside = "and inside the drawing: what lies past the viewBox is cut off";
      expect(x, inside).toBeGreaterThanOrEqual(0);
      expect(x, inside).toBeLessThanOrEqual(Number(parsed.svg.width));
    }
  });

  it("draws no knee line when latency never bent", async () => {
    const { report } = await capacity({ 10: HEALTHY_THEN_BROKEN[10]!, 20: HEALTHY_THEN_BROKEN[20]! });
    expect(report.knee).toBeNull();
    const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(renderSvg(report));
    const knee = [parsed.svg.line]
      .flat()
      .filter((l: Record<string, string> | undefined) => l?.["data-role"] === "knee");
    expect(knee, "a knee line at x = 0 (or anywhere) would claim a knee the report does not have").toEqual([]);
  });

  it("marks the knee with a vertical line at the knee step's x", async () => {
    const { report, points, line } = await chart();
    const knee = line("knee");
    expect(knee, 'a <line data-role="knee"> marks the knee').toBeDefined();
    expect(Number(knee.x1), "the knee line is vertical").toBe(Number(knee.x2));
    const kneeIndex = report.steps.findIndex((s) => s.rate === report.knee);
    expect(Number(knee.x1)).toSatisfy(within2px(points("p50")[kneeIndex]![0]));
  });
});

describe("Little's law", () => {
  it("samples the gauge only while a step runs and reports the mean of its samples as L", async () => {
    let running = false;
    let samples = 0;
    let outsideStep = 0;
    let fifthSample: () => void = () => {};
    const gauge = () => {
      if (!running) outsideStep++;
      samples++;
      if (samples === 5) fifthSample();
      return samples; // 1, 2, 3, ...: the mean of n samples is (n + 1) / 2, the max is n
    };
    const run: StepRunner = async () => {
      running = true;
      // The step lasts until the gauge has been read five times, however busy the machine is.
      await new Promise<void>((resolve) => (fifthSample = resolve));
      running = false;
      return fakeResult({ latencyMs: latencies(50, 20), elapsedMs: 500 });
    };
    const report = await runCapacityTest({
      run,
      rates: [10],
      stepDurationMs: 500,
      slo: SLO,
      inFlight: gauge,
      gaugeIntervalMs: 5,
    });
    const little = report.steps[0]!.littlesLaw!;
    expect(outsideStep, "a sample between steps would mix an idle server into the average").toBe(0);
    expect(little.measuredInFlight, "L is the average of the samples, not the last or the largest").toBeCloseTo(
      (samples + 1) / 2,
      9,
    );
  });

  it("predicts L as throughput times mean service time, and compares the two", async () => {
    const steady = fakeResult({ latencyMs: latencies(50, 30), serviceMs: latencies(50, 20), elapsedMs: 500 });
    const gauge = steadyGauge(3);
    const run: StepRunner = async () => {
      await gauge.sampled();
      return steady;
    };
    const report = await runCapacityTest({
      run,
      rates: [100],
      stepDurationMs: 500,
      slo: SLO,
      inFlight: gauge.inFlight,
    });
    const step = report.steps[0]!;
    expect(step.throughput, "50 responses in 500 ms").toBeCloseTo(100, 9);
    expect(
      step.meanServiceMs,
      "W is the time in the server: send to response, not intended start to response",
    ).toBeCloseTo(20, 6);
    expect(step.littlesLaw!.measuredInFlight).toBe(3);
    expect(step.littlesLaw!.predictedInFlight, "λW = 100/s x 0.020 s").toBeCloseTo(2, 6);
    expect(step.littlesLaw!.relativeError, "|3 - 2| / max(3, 2)").toBeCloseTo(1 / 3, 6);
  });

  it("stops sampling the gauge when a step throws, and passes the error on", async () => {
    let reads = 0;
    let firstRead: () => void = () => {};
    const read = new Promise<void>((resolve) => (firstRead = resolve));
    const run: StepRunner = async () => {
      await read;
      throw new Error("the target went away");
    };
    const gauge = () => {
      reads += 1;
      firstRead();
      return 1;
    };
    await expect(
      runCapacityTest({ run, rates: [10], stepDurationMs: 500, slo: SLO, inFlight: gauge, gaugeIntervalMs: 1 }),
    ).rejects.toThrow("the target went away");
    const afterFailure = reads;
    await new Promise((resolve) => setTimeout(resolve, 30)); // thirty sampling intervals
    expect(
      reads,
      "a sampling timer left running after a failed step keeps the process alive and reads a gauge nobody asked for",
    ).toBe(afterFailure);
  });

  it("has no check when no gauge is given, or when the step ended before the first sample", async () => {
    const { report } = await capacity({ 10: HEALTHY_THEN_BROKEN[10]! });
    expect(report.steps[0]!.littlesLaw).toBeNull();
    const { report: instant } = await capacity(
      { 10: HEALTHY_THEN_BROKEN[10]! },
      { inFlight: () => 1, gaugeIntervalMs: 60_000 },
    );
    expect(instant.steps[0]!.littlesLaw, "no sample, no average: null rather than NaN").toBeNull();
  });

  it("finds perfect agreement, not 0 / 0, when nothing was in flight and nothing was answered", async () => {
    const gauge = steadyGauge(0);
    const run: StepRunner = async () => {
      await gauge.sampled();
      return fakeResult({ latencyMs: [], errors: 5 });
    };
    const report = await runCapacityTest({
      run,
      rates: [10],
      stepDurationMs: 500,
      slo: SLO,
      inFlight: gauge.inFlight,
      gaugeIntervalMs: 2,
    });
    expect(report.steps[0]!.littlesLaw).toEqual({ measuredInFlight: 0, predictedInFlight: 0, relativeError: 0 });
  });
});

describe("against a real server whose latency depends on its load", () => {
  // 8 workers x 50 ms per request: a capacity of 160 requests/s. Below it latency stays near
  // 50 ms; at four times the capacity the queue grows by 480 requests a second. Margins are
  // wide on purpose: the machine running the tests may be busy, and a starved event loop
  // stretches every timer of the server and of the generator.
  const measured = once(async () => {
    const server = await startPoolServer({ workers: 8, serviceMs: 50, overflow: "queue" });
    return runCapacityTest({
      run: openModelSteps(server.url, { connections: 512, timeoutMs: 15_000, maxScheduleLagMs: 1_000 }),
      rates: [20, 40, 640, 1280],
      stepDurationMs: 500,
      warmupMs: 300,
      slo: { p99Ms: 1_000, maxErrorRate: 0.01 },
      inFlight: server.inFlight,
    });
  });
  afterAll(closeAllServers);

  it("meets the SLO well below capacity, breaks it at four times the capacity, and stops there", async () => {
    const report = await measured();
    expect(
      report.steps.map((s) => [s.rate, s.valid, s.metSlo]),
      formatText(report),
    ).toEqual([
      [20, true, true],
      [40, true, true],
      [640, true, false],
    ]);
    expect(report.lastRateMeetingSlo).toBe(40);
    expect(report.breakingRate).toBe(640);
    expect(report.steps[2]!.breaches[0], "the queue, not errors, broke it").toMatch(/p99/);
  });

  it("puts the knee below the overload", async () => {
    const report = await measured();
    expect(report.knee, formatText(report)).not.toBeNull();
    expect(report.knee!, formatText(report)).toBeLessThan(640);
  });

  it("finds Little's law holding on the steps the server kept up with", async () => {
    const report = await measured();
    for (const step of report.steps.filter((s) => s.metSlo)) {
      const little = step.littlesLaw!;
      expect(
        little.measuredInFlight,
        `at ${step.rate}/s with 50 ms of work, about ${step.rate * 0.05} requests are inside the server`,
      ).toBeGreaterThan(0);
      // Sampling and the generator's own delay in reading responses are the only differences
      // on a busy machine; a unit slip (ms for s) is off by a factor of a thousand.
      expect(
        little.relativeError,
        `${step.rate}/s: L = ${little.measuredInFlight.toFixed(2)} but λW = ${little.predictedInFlight.toFixed(2)}`,
      ).toBeLessThan(0.6);
    }
  });
});

describe("against a real server that sheds load", () => {
  afterAll(closeAllServers);

  it("breaks the SLO on errors while the p99 of what it answers stays fast", async () => {
    // The same 160/s of capacity, but a request that finds every worker busy gets a 503 at once.
    const server = await startPoolServer({ workers: 8, serviceMs: 50, overflow: "reject" });
    const report = await runCapacityTest({
      run: openModelSteps(server.url, { connections: 512, timeoutMs: 10_000, maxScheduleLagMs: 1_000 }),
      rates: [20, 320],
      stepDurationMs: 400,
      slo: { p99Ms: 2_000, maxErrorRate: 0.05 },
    });
    const [calm, overloaded] = report.steps;
    expect(calm!.metSlo, formatText(report)).toBe(true);
    expect(
      overloaded!.errorRate,
      "twice the capacity: about half the requests are turned away with 503",
    ).toBeGreaterThan(0.2);
    expect(overloaded!.breaches, formatText(report)).toHaveLength(1);
    expect(overloaded!.breaches[0], "load shedding keeps latency low: only the error rate breaks").toMatch(/error/i);
    expect(calm!.littlesLaw, "no gauge given: no Little's law check").toBeNull();
  });
});
