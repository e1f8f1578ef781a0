// Kata: metrics-registry
//
// Metrics answer "how much, how often, how fast" for the whole fleet at once, and Prometheus is
// the format the ecosystem reads. Build the registry behind a /metrics endpoint:
// - Counters, gauges and histograms with labels. A labelled sample takes exactly the declared
//   label names (MetricsError ERR_LABELS otherwise); label values are strings.
// - Names: metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*, neither
//   starting with "__" (reserved), no "le" label on a histogram, no label name twice. Two
//   metrics may never write the same sample name: a counter "foo" writes foo_total and
//   foo_created, so a gauge "foo_total" clashes (ERR_DUPLICATE_METRIC).
// - A counter's family is its name without `_total`; its samples are <family>_total in both
//   formats. It goes up by finite, non-negative amounts only. A gauge holds any number,
//   NaN and infinities included. A histogram observes any number but NaN.
// - Histograms: buckets strictly increasing (ERR_BUCKETS), +Inf added for you. Rendered
//   cumulative, in increasing `le` order, ending at +Inf, with _sum and _count (= the +Inf
//   bucket). OpenMetrics drops _sum and _count when a bucket bound is negative.
// - `unit` must end the name ("..._seconds" for "seconds"; ERR_UNIT); OpenMetrics writes it in
//   a # UNIT line.
// - render(format): one group per metric, HELP and TYPE before its samples (0.0.4 types a
//   counter under its _total name; OpenMetrics under the family name, with TYPE, UNIT, HELP),
//   and OpenMetrics ends with "# EOF". OpenMetrics may add <family>_created (in seconds, from
//   the clock) for counters and histograms. An unlabelled metric shows its 0 from the start.
// - A cap on series per metric: the combination that would exceed it throws
//   CardinalityLimitError (code ERR_CARDINALITY, message naming the metric and the limit);
//   the existing series keep working.
//
// Tests: tests/metrics-registry.test.ts and tests/exposition.test.ts (npm run check week10
// metrics-registry).
// Keep the exported names and signatures: the tests import them.

import { NotImplementedError } from "#kata";
import type { Clock } from "./clock";
import type { ExpositionFormat } from "./exposition";

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

/** A value that only goes up (requests served, bytes sent); rate() turns it into a per-second speed. */
export class Counter {
  constructor(options: MetricOptions, clock: Clock, defaultMaxSeries: number) {
    // TODO: validate the label names; keep the series of each label combination, created on
    // first use (an unlabelled counter has its one series from the start).
    throw new NotImplementedError("metrics-registry");
  }

  /** Adds `by` (default 1, finite, not negative) to the series of `labels`. */
  inc(by?: number): void;
  inc(labels: Labels, by?: number): void;
  inc(labelsOrBy?: Labels | number, by?: number): void {
    // TODO: MetricsError ERR_VALUE for a negative or non-finite amount.
    throw new NotImplementedError("metrics-registry");
  }

  /** The series of `labels`, resolved once: the fast path for hot code. */
  labels(labels: Labels): CounterChild {
    // TODO
    throw new NotImplementedError("metrics-registry");
  }
}

/** A value that goes up and down (requests in flight, queue depth). NaN and infinities are allowed. */
export class Gauge {
  constructor(options: MetricOptions, clock: Clock, defaultMaxSeries: number) {
    // TODO
    throw new NotImplementedError("metrics-registry");
  }

  set(value: number): void;
  set(labels: Labels, value: number): void;
  set(labelsOrValue: Labels | number, value?: number): void {
    // TODO
    throw new NotImplementedError("metrics-registry");
  }

  inc(by?: number): void;
  inc(labels: Labels, by?: number): void;
  inc(labelsOrBy?: Labels | number, by?: number): void {
    // TODO
    throw new NotImplementedError("metrics-registry");
  }

  dec(by?: number): void;
  dec(labels: Labels, by?: number): void;
  dec(labelsOrBy?: Labels | number, by?: number): void {
    // TODO
    throw new NotImplementedError("metrics-registry");
  }

  labels(labels: Labels): GaugeChild {
    // TODO
    throw new NotImplementedError("metrics-registry");
  }
}

/** Counts observations into buckets: aggregatable across instances, unlike a summary's quantiles. */
export class Histogram {
  constructor(options: HistogramOptions, clock: Clock, defaultMaxSeries: number) {
    // TODO: validate the buckets; per series keep a count per bucket, the sum and the count.
    throw new NotImplementedError("metrics-registry");
  }

  /** Counts `value` (any number but NaN) in the first bucket whose bound is at least `value`. */
  observe(value: number): void;
  observe(labels: Labels, value: number): void;
  observe(labelsOrValue: Labels | number, value?: number): void {
    // TODO: a value equal to a bound belongs to that bucket (le means "less or equal").
    throw new NotImplementedError("metrics-registry");
  }

  labels(labels: Labels): HistogramChild {
    // TODO
    throw new NotImplementedError("metrics-registry");
  }
}

/** Holds a process's metrics and renders them for a scrape. */
export class Registry {
  constructor(options: RegistryOptions = {}) {
    // TODO: remember the clock (default systemClock from ./clock) and the series cap.
    throw new NotImplementedError("metrics-registry");
  }

  /** A new counter; its samples are named <family>_total in both formats. */
  counter(options: MetricOptions): Counter {
    // TODO: validate the name and the unit, refuse a sample name already taken, register.
    throw new NotImplementedError("metrics-registry");
  }

  gauge(options: MetricOptions): Gauge {
    // TODO
    throw new NotImplementedError("metrics-registry");
  }

  histogram(options: HistogramOptions): Histogram {
    // TODO
    throw new NotImplementedError("metrics-registry");
  }

  /** Every metric, in registration order, in the given format (OpenMetrics ends with # EOF). */
  render(format: ExpositionFormat = "prometheus-0.0.4"): string {
    // TODO: escape with the helpers in ./exposition.
    throw new NotImplementedError("metrics-registry");
  }
}
