/**
 * The errors the metrics registry throws, shared by the skeleton and the solution so that tests
 * can check the class and the code, never the wording. Telemetry that throws at the wrong moment
 * takes the application down with it, so every misuse gets its own code.
 */
export type MetricsErrorCode =
  /** The metric name is not [a-zA-Z_:][a-zA-Z0-9_:]*, or starts with a reserved "__". */
  | "ERR_METRIC_NAME"
  /** A label name is invalid, reserved ("__" prefix, "le" on a histogram) or repeated. */
  | "ERR_LABEL_NAME"
  /** The labels given to a sample are not exactly the metric's label names, or a value is not a string. */
  | "ERR_LABELS"
  /** The name, or one of the sample names it would produce, is already taken in this registry. */
  | "ERR_DUPLICATE_METRIC"
  /** A value the metric type cannot hold (a negative counter increment, NaN in a histogram...). */
  | "ERR_VALUE"
  /** Histogram buckets that are not strictly increasing numbers. */
  | "ERR_BUCKETS"
  /** A unit that is not a suffix of the metric name ("seconds" on a metric not ending in _seconds). */
  | "ERR_UNIT"
  /** A new label combination past the metric's series cap. */
  | "ERR_CARDINALITY";

/** Any misuse of the metrics registry. */
export class MetricsError extends Error {
  constructor(
    readonly code: MetricsErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "MetricsError";
  }
}

/**
 * A new label combination would take a metric past its cap on series. The series that exist keep
 * working; only the new combination is refused, so one runaway label cannot exhaust the heap of
 * the process or the memory of the Prometheus server that scrapes it.
 */
export class CardinalityLimitError extends MetricsError {
  constructor(
    /** The metric family that reached its cap. */
    readonly metric: string,
    /** The cap: series this metric may hold. */
    readonly limit: number,
    /** The label combination that was refused. */
    readonly labels: Readonly<Record<string, string>>,
  ) {
    super(
      "ERR_CARDINALITY",
      `metric ${metric} reached its limit of ${limit} series; refused labels ${JSON.stringify(labels)}`,
    );
    this.name = "CardinalityLimitError";
  }
}
