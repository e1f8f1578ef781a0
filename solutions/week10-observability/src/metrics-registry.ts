import { type Clock, systemClock } from "./clock";
import {
  type ExpositionFormat,
  escapeHelp,
  escapeLabelValue,
  formatBucketBound,
  formatSampleValue,
} from "./exposition";
import { CardinalityLimitError, MetricsError } from "./metrics-errors";

/** Label values of one sample, by label name. Every declared label name, and no other. */
export type Labels = Readonly<Record<string, string>>;

export interface MetricOptions {
  /** The metric family name, [a-zA-Z_:][a-zA-Z0-9_:]*. A counter's `_total` suffix is optional. */
  name: string;
  /** One line for humans; escaped for you. */
  help: string;
  /** The label names every sample of this metric carries, in the order they are rendered. */
  labelNames?: readonly string[];
  /** The unit (OpenMetrics' # UNIT), which must also end the name: unit "seconds", name "..._seconds". */
  unit?: string;
  /** Series this metric may hold; default: the registry's maxSeriesPerMetric. */
  maxSeries?: number;
}

export interface HistogramOptions extends MetricOptions {
  /** Upper bounds, strictly increasing. +Inf is added for you (a trailing +Inf given here is the same one). */
  buckets?: readonly number[];
}

export interface RegistryOptions {
  /** Where `_created` timestamps come from. */
  clock?: Clock;
  /** Default cap on series per metric. Default 10 000. */
  maxSeriesPerMetric?: number;
}

/** Prometheus' default buckets, for latencies in seconds from 5 ms to 10 s. */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface CounterChild {
  inc(by?: number): void;
}

export interface GaugeChild {
  inc(by?: number): void;
  dec(by?: number): void;
  set(value: number): void;
}

export interface HistogramChild {
  observe(value: number): void;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const UNIT = /^[a-zA-Z0-9_]+$/;

type Kind = "counter" | "gauge" | "histogram";

/** The sample names a family of each kind writes: two families must never write the same one. */
function sampleNames(kind: Kind, family: string): string[] {
  if (kind === "counter") return [family, `${family}_total`, `${family}_created`];
  if (kind === "histogram")
    return [family, `${family}_bucket`, `${family}_count`, `${family}_sum`, `${family}_created`];
  return [family];
}

interface SeriesBase {
  /** `a="x",b="y"`, escaped once when the series is created, so a scrape only concatenates. */
  readonly labelsText: string;
  readonly createdMs: number;
}

interface ScalarSeries extends SeriesBase {
  value: number;
}

interface HistogramSeries extends SeriesBase {
  /** Per-bucket counts, not cumulative (the last one is +Inf): observing touches one slot only. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** Label names, series and the cardinality cap: everything the three metric kinds share. */
abstract class Family<S extends SeriesBase> {
  readonly name: string;
  readonly help: string;
  readonly unit: string | undefined;
  readonly labelNames: readonly string[];
  readonly #maxSeries: number;
  readonly #clock: Clock;
  readonly #series = new Map<string, S>();

  constructor(
    readonly kind: Kind,
    options: MetricOptions,
    family: string,
    clock: Clock,
    defaultMaxSeries: number,
  ) {
    this.name = family;
    this.help = options.help;
    this.unit = options.unit;
    this.labelNames = [...(options.labelNames ?? [])];
    this.#clock = clock;
    this.#maxSeries = options.maxSeries ?? defaultMaxSeries;
    if (!Number.isInteger(this.#maxSeries) || this.#maxSeries < 1) {
      throw new RangeError(`maxSeries must be a positive integer (got ${this.#maxSeries})`);
    }
    const seen = new Set<string>();
    for (const label of this.labelNames) {
      if (
        !LABEL_NAME.test(label) ||
        label.startsWith("__") ||
        (kind === "histogram" && label === "le") ||
        seen.has(label)
      ) {
        throw new MetricsError(
          "ERR_LABEL_NAME",
          `metric ${family}: invalid, reserved or repeated label name ${JSON.stringify(label)}`,
        );
      }
      seen.add(label);
    }
  }

  /** Called once the subclass is ready: an unlabelled metric exposes its one series from the start. */
  protected init(): void {
    if (this.labelNames.length === 0) this.#create("", []);
  }

  protected abstract createSeries(labelsText: string, createdMs: number): S;
  protected abstract renderSeries(series: S, format: ExpositionFormat): string;

  /** The series for these labels, created on first use within the cap. */
  protected series(labels: Labels | undefined): S {
    const names = this.labelNames;
    let given = 0;
    if (labels !== undefined) for (const _ in labels) given++;
    if (given !== names.length) throw this.#labelsError(labels);
    if (names.length === 0) return this.#series.get("")!;
    let key: string;
    if (names.length === 1) {
      const value = labels![names[0]!];
      if (typeof value !== "string") throw this.#labelsError(labels);
      key = value;
    } else {
      key = "";
      for (const name of names) {
        const value = labels![name];
        if (typeof value !== "string") throw this.#labelsError(labels);
        // Length-prefixed, so no label value can be crafted to collide with another combination.
        key += `${value.length}:${value}`;
      }
    }
    return (
      this.#series.get(key) ??
      this.#create(
        key,
        names.map((name) => labels![name]!),
        labels,
      )
    );
  }

  #create(key: string, values: readonly string[], labels?: Labels): S {
    if (this.#series.size >= this.#maxSeries)
      throw new CardinalityLimitError(this.name, this.#maxSeries, { ...labels });
    const labelsText = this.labelNames.map((name, i) => `${name}="${escapeLabelValue(values[i]!)}"`).join(",");
    const created = this.createSeries(labelsText, this.#clock.now());
    this.#series.set(key, created);
    return created;
  }

  #labelsError(labels: Labels | undefined): MetricsError {
    const got = labels === undefined ? [] : Object.keys(labels);
    return new MetricsError(
      "ERR_LABELS",
      `metric ${this.name} takes labels [${this.labelNames.join(", ")}], got [${got.join(", ")}]`,
    );
  }

  /** This family's lines: its metadata, then every series, in the given format. */
  render(format: ExpositionFormat): string {
    const openMetrics = format === "openmetrics-1.0.0";
    // 0.0.4 has no family name apart from its samples: a counter is typed under its _total name.
    const typed = !openMetrics && this.kind === "counter" ? `${this.name}_total` : this.name;
    let out = "";
    if (openMetrics) {
      out += `# TYPE ${typed} ${this.kind}\n`;
      if (this.unit !== undefined) out += `# UNIT ${typed} ${this.unit}\n`;
      out += `# HELP ${typed} ${escapeHelp(this.help, format)}\n`;
    } else {
      out += `# HELP ${typed} ${escapeHelp(this.help, format)}\n# TYPE ${typed} ${this.kind}\n`;
    }
    for (const series of this.#series.values()) out += this.renderSeries(series, format);
    return out;
  }
}

function braces(labelsText: string): string {
  return labelsText === "" ? "" : `{${labelsText}}`;
}

function createdSeconds(ms: number): string {
  return formatSampleValue(ms / 1000);
}

/** A value that only goes up (requests served, bytes sent); rate() turns it into a per-second speed. */
export class Counter extends Family<ScalarSeries> {
  constructor(options: MetricOptions, clock: Clock, defaultMaxSeries: number) {
    super("counter", options, options.name.replace(/_total$/, ""), clock, defaultMaxSeries);
    this.init();
  }

  /** Adds `by` (default 1, finite, not negative) to the series of `labels`. */
  inc(by?: number): void;
  inc(labels: Labels, by?: number): void;
  inc(labelsOrBy?: Labels | number, by?: number): void {
    if (typeof labelsOrBy === "object") Counter.#add(this.series(labelsOrBy), by);
    else Counter.#add(this.series(undefined), labelsOrBy);
  }

  /** The series of `labels`, resolved once: the fast path for hot code. */
  labels(labels: Labels): CounterChild {
    const series = this.series(labels);
    return { inc: (by?: number) => Counter.#add(series, by) };
  }

  static #add(series: ScalarSeries, by = 1): void {
    if (typeof by !== "number" || !Number.isFinite(by) || by < 0) {
      throw new MetricsError(
        "ERR_VALUE",
        `a counter only goes up by a finite, non-negative amount (got ${String(by)})`,
      );
    }
    series.value += by;
  }

  protected createSeries(labelsText: string, createdMs: number): ScalarSeries {
    return { labelsText, createdMs, value: 0 };
  }

  protected renderSeries(series: ScalarSeries, format: ExpositionFormat): string {
    const labels = braces(series.labelsText);
    const line = `${this.name}_total${labels} ${formatSampleValue(series.value)}\n`;
    if (format !== "openmetrics-1.0.0") return line;
    return `${line}${this.name}_created${labels} ${createdSeconds(series.createdMs)}\n`;
  }
}

/** A value that goes up and down (requests in flight, queue depth). NaN and infinities are allowed. */
export class Gauge extends Family<ScalarSeries> {
  constructor(options: MetricOptions, clock: Clock, defaultMaxSeries: number) {
    super("gauge", options, options.name, clock, defaultMaxSeries);
    this.init();
  }

  set(value: number): void;
  set(labels: Labels, value: number): void;
  set(labelsOrValue: Labels | number, value?: number): void {
    if (typeof labelsOrValue === "object") Gauge.#set(this.series(labelsOrValue), value);
    else Gauge.#set(this.series(undefined), labelsOrValue);
  }

  inc(by?: number): void;
  inc(labels: Labels, by?: number): void;
  inc(labelsOrBy?: Labels | number, by?: number): void {
    if (typeof labelsOrBy === "object") Gauge.#add(this.series(labelsOrBy), by ?? 1);
    else Gauge.#add(this.series(undefined), labelsOrBy ?? 1);
  }

  dec(by?: number): void;
  dec(labels: Labels, by?: number): void;
  dec(labelsOrBy?: Labels | number, by?: number): void {
    if (typeof labelsOrBy === "object") Gauge.#add(this.series(labelsOrBy), -(by ?? 1));
    else Gauge.#add(this.series(undefined), -(labelsOrBy ?? 1));
  }

  labels(labels: Labels): GaugeChild {
    const series = this.series(labels);
    return {
      inc: (by = 1) => Gauge.#add(series, by),
      dec: (by = 1) => Gauge.#add(series, -by),
      set: (value: number) => Gauge.#set(series, value),
    };
  }

  static #set(series: ScalarSeries, value: number | undefined): void {
    if (typeof value !== "number") throw new MetricsError("ERR_VALUE", `a gauge holds a number (got ${String(value)})`);
    series.value = value;
  }

  static #add(series: ScalarSeries, by: number): void {
    if (typeof by !== "number") throw new MetricsError("ERR_VALUE", `a gauge moves by a number (got ${String(by)})`);
    series.value += by;
  }

  protected createSeries(labelsText: string, createdMs: number): ScalarSeries {
    return { labelsText, createdMs, value: 0 };
  }

  protected renderSeries(series: ScalarSeries): string {
    return `${this.name}${braces(series.labelsText)} ${formatSampleValue(series.value)}\n`;
  }
}

/** Counts observations into buckets: aggregatable across instances, unlike a summary's quantiles. */
export class Histogram extends Family<HistogramSeries> {
  readonly #bounds: Float64Array;
  /** `le="..."` for each bound and +Inf, formatted once. */
  readonly #leText: readonly string[];
  /** OpenMetrics forbids _sum (and so _count) when a bound is negative: the sum is no longer a counter. */
  readonly #hasNegativeBound: boolean;

  constructor(options: HistogramOptions, clock: Clock, defaultMaxSeries: number) {
    super("histogram", options, options.name, clock, defaultMaxSeries);
    const given = [...(options.buckets ?? DEFAULT_BUCKETS)];
    if (given.at(-1) === Number.POSITIVE_INFINITY) given.pop();
    for (let i = 0; i < given.length; i++) {
      const bound = given[i]!;
      if (typeof bound !== "number" || !Number.isFinite(bound) || (i > 0 && bound <= given[i - 1]!)) {
        throw new MetricsError(
          "ERR_BUCKETS",
          `histogram ${this.name}: buckets must be strictly increasing finite numbers`,
        );
      }
    }
    this.#bounds = Float64Array.from(given);
    this.#leText = [...given.map(formatBucketBound), "+Inf"].map((le) => `le="${le}"`);
    this.#hasNegativeBound = given.some((bound) => bound < 0);
    this.init();
  }

  /** Counts `value` (any number but NaN) in the first bucket whose bound is at least `value`. */
  observe(value: number): void;
  observe(labels: Labels, value: number): void;
  observe(labelsOrValue: Labels | number, value?: number): void {
    if (typeof labelsOrValue === "object") this.#observe(this.series(labelsOrValue), value);
    else this.#observe(this.series(undefined), labelsOrValue);
  }

  labels(labels: Labels): HistogramChild {
    const series = this.series(labels);
    return { observe: (value: number) => this.#observe(series, value) };
  }

  #observe(series: HistogramSeries, value: number | undefined): void {
    if (typeof value !== "number" || Number.isNaN(value)) {
      throw new MetricsError(
        "ERR_VALUE",
        `histogram ${this.name} observes numbers, not ${String(value)}: a NaN would poison _sum`,
      );
    }
    const bounds = this.#bounds;
    let lo = 0;
    let hi = bounds.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (value <= bounds[mid]!) hi = mid;
      else lo = mid + 1;
    }
    series.counts[lo]! += 1;
    series.sum += value;
    series.count += 1;
  }

  protected createSeries(labelsText: string, createdMs: number): HistogramSeries {
    return { labelsText, createdMs, counts: new Float64Array(this.#bounds.length + 1), sum: 0, count: 0 };
  }

  protected renderSeries(series: HistogramSeries, format: ExpositionFormat): string {
    const prefix = series.labelsText === "" ? "{" : `{${series.labelsText},`;
    const labels = braces(series.labelsText);
    let out = "";
    let cumulative = 0;
    for (let i = 0; i < series.counts.length; i++) {
      cumulative += series.counts[i]!;
      out += `${this.name}_bucket${prefix}${this.#leText[i]!}} ${cumulative}\n`;
    }
    const openMetrics = format === "openmetrics-1.0.0";
    if (!openMetrics || !this.#hasNegativeBound) {
      out += `${this.name}_sum${labels} ${formatSampleValue(series.sum)}\n`;
      out += `${this.name}_count${labels} ${series.count}\n`;
    }
    if (openMetrics) out += `${this.name}_created${labels} ${createdSeconds(series.createdMs)}\n`;
    return out;
  }
}

type AnyFamily = Counter | Gauge | Histogram;

/** Holds a process's metrics and renders them for a scrape. */
export class Registry {
  readonly #clock: Clock;
  readonly #maxSeries: number;
  readonly #families: AnyFamily[] = [];
  /** Every sample name any family writes, so no two families can ever write the same one. */
  readonly #claimed = new Set<string>();

  constructor(options: RegistryOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#maxSeries = options.maxSeriesPerMetric ?? 10_000;
    if (!Number.isInteger(this.#maxSeries) || this.#maxSeries < 1) {
      throw new RangeError(`maxSeriesPerMetric must be a positive integer (got ${this.#maxSeries})`);
    }
  }

  /** A new counter; its samples are named <family>_total in both formats. */
  counter(options: MetricOptions): Counter {
    return this.#register("counter", options, () => new Counter(options, this.#clock, this.#maxSeries));
  }

  gauge(options: MetricOptions): Gauge {
    return this.#register("gauge", options, () => new Gauge(options, this.#clock, this.#maxSeries));
  }

  histogram(options: HistogramOptions): Histogram {
    return this.#register("histogram", options, () => new Histogram(options, this.#clock, this.#maxSeries));
  }

  /** Every metric, in registration order, in the given format (OpenMetrics ends with # EOF). */
  render(format: ExpositionFormat = "prometheus-0.0.4"): string {
    let out = "";
    for (const family of this.#families) out += family.render(format);
    return format === "openmetrics-1.0.0" ? `${out}# EOF\n` : out;
  }

  #register<F extends AnyFamily>(kind: Kind, options: MetricOptions, make: () => F): F {
    const name: unknown = options.name;
    if (typeof name !== "string" || !METRIC_NAME.test(name) || name.startsWith("__")) {
      throw new MetricsError("ERR_METRIC_NAME", `invalid metric name ${JSON.stringify(name)}`);
    }
    const family = kind === "counter" ? name.replace(/_total$/, "") : name;
    if (options.unit !== undefined && (!UNIT.test(options.unit) || !family.endsWith(`_${options.unit}`))) {
      throw new MetricsError(
        "ERR_UNIT",
        `metric ${family}: the unit ${JSON.stringify(options.unit)} must end its name`,
      );
    }
    const names = sampleNames(kind, family);
    const taken = names.find((sample) => this.#claimed.has(sample));
    if (taken !== undefined)
      throw new MetricsError("ERR_DUPLICATE_METRIC", `metric ${family}: the name ${taken} is already taken`);
    const metric = make();
    for (const sample of names) this.#claimed.add(sample);
    this.#families.push(metric);
    return metric;
  }
}
