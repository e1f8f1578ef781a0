import { describe, expect, it } from "vitest";
import type { ExpositionFormat } from "../src/exposition";
import { CardinalityLimitError, MetricsError, type MetricsErrorCode } from "../src/metrics-errors";
import { DEFAULT_BUCKETS, Registry } from "../src/metrics-registry";
import { checkHistograms, type Exposition, parseExposition, valueOf } from "./support/exposition";

// The registry's first test file: the metric kinds, names, labels and the series cap. The second
// (exposition.test.ts) covers what OpenMetrics adds, content negotiation and prom-client.

const TEXT = "prometheus-0.0.4";
const OM = "openmetrics-1.0.0";

/** Renders and parses strictly: a format violation fails here, with the line that broke. */
function read(registry: Registry, format: ExpositionFormat = TEXT): Exposition {
  return parseExposition(registry.render(format), format);
}

function codeOf(fn: () => unknown): MetricsErrorCode | string {
  try {
    fn();
  } catch (error) {
    return error instanceof MetricsError ? error.code : `not a MetricsError: ${String(error)}`;
  }
  return "did not throw";
}

describe("counters, gauges and histograms in the text format 0.0.4", () => {
  it("writes each metric as one group: HELP and TYPE once, before its samples", () => {
    const registry = new Registry();
    const requests = registry.counter({
      name: "http_requests_total",
      help: "Requests served.",
      labelNames: ["method"],
    });
    const inFlight = registry.gauge({ name: "jobs_in_flight", help: "Jobs running now." });
    const latency = registry.histogram({
      name: "db_query_seconds",
      help: "Query latency.",
      labelNames: ["table"],
      buckets: [0.1, 1],
    });
    requests.inc({ method: "GET" });
    latency.observe({ table: "users" }, 0.2);
    requests.inc({ method: "POST" }, 2);
    inFlight.set(3);
    latency.observe({ table: "orders" }, 0.05);
    const text = read(registry);
    expect(text.family("http_requests_total")?.type, "0.0.4 types a counter under the name its samples carry").toBe(
      "counter",
    );
    expect(text.family("http_requests_total")?.help).toBe("Requests served.");
    expect(text.family("jobs_in_flight")?.type).toBe("gauge");
    expect(text.family("db_query_seconds")?.type).toBe("histogram");
    expect(valueOf(text, "http_requests_total", { method: "GET" })).toBe(1);
    expect(valueOf(text, "http_requests_total", { method: "POST" })).toBe(2);
    expect(valueOf(text, "jobs_in_flight")).toBe(3);
    expect(
      text.families.map((f) => f.name),
      "families in registration order",
    ).toEqual(["http_requests_total", "jobs_in_flight", "db_query_seconds"]);
  });

  it("names a counter's samples <family>_total, whether or not the name given ends in _total", () => {
    const registry = new Registry();
    registry.counter({ name: "jobs_processed", help: "Jobs." }).inc();
    registry.counter({ name: "emails_sent_total", help: "Emails." }).inc(4);
    const text = read(registry);
    expect(valueOf(text, "jobs_processed_total"), "dashboards query rate(jobs_processed_total[5m])").toBe(1);
    expect(valueOf(text, "emails_sent_total"), "a name already ending in _total gets no second one").toBe(4);
    expect(text.family("jobs_processed_total")?.type).toBe("counter");
  });

  it("shows an unlabelled metric's zero from the start, so rate() has a first point", () => {
    const registry = new Registry();
    registry.counter({ name: "boots", help: "Boots." });
    registry.gauge({ name: "queue_depth", help: "Depth." });
    registry.histogram({ name: "wait_seconds", help: "Wait.", buckets: [1] });
    const text = read(registry);
    expect(
      valueOf(text, "boots_total"),
      "a counter that appears only at its first increment loses that increment to rate()",
    ).toBe(0);
    expect(valueOf(text, "queue_depth")).toBe(0);
    expect(valueOf(text, "wait_seconds_bucket", { le: "+Inf" })).toBe(0);
    expect(valueOf(text, "wait_seconds_count")).toBe(0);
    expect(valueOf(text, "wait_seconds_sum")).toBe(0);
  });

  it("lets a counter go up only, by finite amounts, and keeps its value after a refusal", () => {
    const registry = new Registry();
    const counter = registry.counter({ name: "bytes_sent", help: "Bytes." });
    counter.inc(10);
    expect(
      codeOf(() => counter.inc(-1)),
      "a counter that goes down reads as a process restart to rate()",
    ).toBe("ERR_VALUE");
    expect(codeOf(() => counter.inc(Number.NaN))).toBe("ERR_VALUE");
    expect(codeOf(() => counter.inc(Number.POSITIVE_INFINITY))).toBe("ERR_VALUE");
    counter.inc(0.5);
    expect(valueOf(read(registry), "bytes_sent_total")).toBe(10.5);
  });

  it("moves an unlabelled gauge and counter by the amount given, also through a bound child", () => {
    const registry = new Registry();
    const gauge = registry.gauge({ name: "workers", help: "Workers." });
    gauge.inc(5);
    gauge.dec(2);
    gauge.inc();
    gauge.dec();
    const counter = registry.counter({ name: "retries", help: "Retries.", labelNames: ["op"] });
    counter.labels({ op: "read" }).inc();
    counter.labels({ op: "read" }).inc(2);
    const text = read(registry);
    expect(valueOf(text, "workers"), "inc(5) adds 5, dec(2) takes 2, and no argument means 1").toBe(3);
    expect(valueOf(text, "retries_total", { op: "read" })).toBe(3);
    expect(
      codeOf(() => gauge.set("7" as unknown as number)),
      "a gauge holds numbers",
    ).toBe("ERR_VALUE");
    expect(codeOf(() => gauge.inc({}, "1" as unknown as number))).toBe("ERR_VALUE");
  });

  it("lets a gauge go up, down, and hold NaN, +Inf and -Inf", () => {
    const registry = new Registry();
    const gauge = registry.gauge({ name: "pool_size", help: "Size.", labelNames: ["pool"] });
    gauge.inc({ pool: "a" }, 5);
    gauge.dec({ pool: "a" }, 2);
    gauge.labels({ pool: "b" }).inc();
    gauge.labels({ pool: "b" }).dec(3);
    gauge.set({ pool: "nan" }, Number.NaN);
    gauge.set({ pool: "up" }, Number.POSITIVE_INFINITY);
    gauge.labels({ pool: "down" }).set(Number.NEGATIVE_INFINITY);
    for (const format of [TEXT, OM] as const) {
      const text = read(registry, format);
      expect(valueOf(text, "pool_size", { pool: "a" })).toBe(3);
      expect(valueOf(text, "pool_size", { pool: "b" })).toBe(-2);
      expect(valueOf(text, "pool_size", { pool: "nan" }), `${format} spells NaN so scrapers read it`).toBeNaN();
      expect(valueOf(text, "pool_size", { pool: "up" }), `${format}: an infinite gauge is a value like any other`).toBe(
        Number.POSITIVE_INFINITY,
      );
      expect(valueOf(text, "pool_size", { pool: "down" })).toBe(Number.NEGATIVE_INFINITY);
    }
  });

  it("escapes label values and HELP text so that a strict parser reads back exactly what was written", () => {
    const registry = new Registry();
    const help = 'Paths like C:\\temp and "quoted"\nover two lines.';
    const counter = registry.counter({ name: "files_read", help, labelNames: ["path"] });
    const nasty = 'C:\\dir\\"file".txt\nsecond line';
    counter.inc({ path: nasty });
    for (const format of [TEXT, OM] as const) {
      const text = read(registry, format);
      const family = text.family(format === TEXT ? "files_read_total" : "files_read");
      expect(
        family?.help,
        `${format}: HELP escapes backslash and line feed (and in OpenMetrics, the quote); 0.0.4 has no \\" escape`,
      ).toBe(help);
      expect(family?.samples[0]?.labels.path, `${format}: a label value escapes backslash, quote and line feed`).toBe(
        nasty,
      );
    }
  });
});

describe("histograms", () => {
  it("refuses observations that are not numbers", () => {
    const registry = new Registry();
    const histogram = registry.histogram({ name: "payload_bytes", help: "Size.", buckets: [100] });
    expect(
      codeOf(() => histogram.observe("0.5" as unknown as number)),
      "a string would turn _sum into text",
    ).toBe("ERR_VALUE");
    expect(codeOf(() => histogram.labels({}).observe(Number.NaN))).toBe("ERR_VALUE");
    expect(valueOf(read(registry), "payload_bytes_count")).toBe(0);
  });

  it("writes cumulative buckets in increasing le order, ending at +Inf, with _sum and _count", () => {
    const registry = new Registry();
    const histogram = registry.histogram({
      name: "rpc_seconds",
      help: "RPC.",
      labelNames: ["rpc"],
      buckets: [0.1, 0.5, 1],
    });
    for (const v of [0.05, 0.1, 0.3, 0.7, 2]) histogram.observe({ rpc: "get" }, v);
    histogram.labels({ rpc: "put" }).observe(0.4);
    for (const format of [TEXT, OM] as const) {
      const text = read(registry, format);
      expect(() => checkHistograms(text), `${format}: a histogram's buckets are cumulative and ordered`).not.toThrow();
      const bucket = (le: string) =>
        text
          .family("rpc_seconds")
          ?.samples.find(
            (s) =>
              s.name === "rpc_seconds_bucket" &&
              s.labels.rpc === "get" &&
              Number(s.labels.le.replace("+Inf", "Infinity")) === Number(le),
          );
      expect(bucket("0.1")?.value, "0.05 and 0.1 itself: le means less than or equal").toBe(2);
      expect(bucket("0.5")?.value, "cumulative: everything up to 0.5, not only what fell between 0.1 and 0.5").toBe(3);
      expect(bucket("1")?.value).toBe(4);
      expect(bucket("Infinity")?.value, "+Inf counts every observation").toBe(5);
      expect(valueOf(text, "rpc_seconds_count", { rpc: "get" }), "_count equals the +Inf bucket").toBe(5);
      expect(valueOf(text, "rpc_seconds_sum", { rpc: "get" })).toBeCloseTo(3.15, 10);
      expect(valueOf(text, "rpc_seconds_count", { rpc: "put" })).toBe(1);
    }
  });

  it("counts +Inf in the +Inf bucket only and refuses NaN, which would poison _sum", () => {
    const registry = new Registry();
    const histogram = registry.histogram({ name: "size_bytes", help: "Size.", buckets: [10] });
    histogram.observe(Number.POSITIVE_INFINITY);
    expect(codeOf(() => histogram.observe(Number.NaN))).toBe("ERR_VALUE");
    const text = read(registry);
    expect(valueOf(text, "size_bytes_bucket", { le: "10.0" }) ?? valueOf(text, "size_bytes_bucket", { le: "10" })).toBe(
      0,
    );
    expect(valueOf(text, "size_bytes_bucket", { le: "+Inf" })).toBe(1);
    expect(valueOf(text, "size_bytes_count"), "the refused NaN is not counted").toBe(1);
  });

  it("uses Prometheus' default buckets and refuses buckets that are not strictly increasing numbers", () => {
    const registry = new Registry();
    registry.histogram({ name: "default_seconds", help: "D." });
    const les = read(registry)
      .family("default_seconds")!
      .samples.filter((s) => s.name.endsWith("_bucket"))
      .map((s) => Number(s.labels.le!.replace("+Inf", "Infinity")));
    const prometheusDefaults = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    expect(DEFAULT_BUCKETS).toEqual(prometheusDefaults);
    expect(les).toEqual([...prometheusDefaults, Number.POSITIVE_INFINITY]);
    expect(
      codeOf(() => registry.histogram({ name: "a_seconds", help: "A.", buckets: [1, 0.5] })),
      "unsorted",
    ).toBe("ERR_BUCKETS");
    expect(
      codeOf(() => registry.histogram({ name: "b_seconds", help: "B.", buckets: [1, 1] })),
      "a bound twice",
    ).toBe("ERR_BUCKETS");
    expect(codeOf(() => registry.histogram({ name: "c_seconds", help: "C.", buckets: [Number.NaN] }))).toBe(
      "ERR_BUCKETS",
    );
    registry.histogram({ name: "d_seconds", help: "D.", buckets: [0.5, 1, Number.POSITIVE_INFINITY] });
    expect(
      () => read(registry),
      "a trailing +Inf given by the caller is the one +Inf bucket, not a second",
    ).not.toThrow();
  });

  it("writes le as OpenMetrics' canonical numbers", () => {
    const registry = new Registry();
    registry.histogram({ name: "span_seconds", help: "S.", buckets: [0.00001, 0.0001, 0.005, 1, 10, 100000, 1000000] });
    const les = read(registry, OM)
      .family("span_seconds")!
      .samples.filter((s) => s.name.endsWith("_bucket"))
      .map((s) => s.labels.le);
    expect(
      les,
      "le is a label: the same bound must be the same text everywhere (1.0, not 1; 1e+06, not 1000000)",
    ).toEqual(["1e-05", "0.0001", "0.005", "1.0", "10.0", "100000.0", "1e+06", "+Inf"]);
  });

  it("drops _sum and _count in OpenMetrics when a bucket bound is negative", () => {
    const registry = new Registry();
    const histogram = registry.histogram({ name: "temperature_delta", help: "T.", buckets: [-10, 0, 10] });
    histogram.observe(-20);
    const text = read(registry, OM);
    expect(() => checkHistograms(text)).not.toThrow();
    expect(
      valueOf(text, "temperature_delta_sum"),
      "with negative buckets the sum is no longer a counter: OpenMetrics forbids it",
    ).toBeUndefined();
    expect(valueOf(text, "temperature_delta_count"), "_count appears if and only if _sum does").toBeUndefined();
    expect(valueOf(text, "temperature_delta_bucket", { le: "-10.0" })).toBe(1);
    const zero = new Registry();
    zero.histogram({ name: "queue_wait_seconds", help: "W.", buckets: [0, 1] }).observe(0.5);
    expect(valueOf(read(zero, OM), "queue_wait_seconds_sum"), "a bound of 0 is not negative: the sum stays").toBe(0.5);
  });
});

describe("names and labels", () => {
  it("refuses metric names Prometheus cannot store", () => {
    const registry = new Registry();
    for (const name of ["1st_metric", "http-requests", "", "with space", "__reserved", "ünïcode"]) {
      expect(
        codeOf(() => registry.gauge({ name, help: "x" })),
        `metric name ${JSON.stringify(name)}`,
      ).toBe("ERR_METRIC_NAME");
    }
    expect(
      () => registry.gauge({ name: "job:rate5m", help: "x" }),
      "colons are legal (recording rules use them)",
    ).not.toThrow();
  });

  it("refuses invalid, reserved and repeated label names", () => {
    const registry = new Registry();
    const bad: Array<[string[], string]> = [
      [["1x"], "starts with a digit"],
      [["a-b"], "a dash"],
      [["__name__"], "__ is reserved for Prometheus itself"],
      [["path", "path"], "a label twice"],
    ];
    for (const [labelNames, why] of bad)
      expect(
        codeOf(() => registry.counter({ name: `c${labelNames.length}_${why.length}`, help: "x", labelNames })),
        why,
      ).toBe("ERR_LABEL_NAME");
    expect(
      codeOf(() => registry.histogram({ name: "h_seconds", help: "x", labelNames: ["le"] })),
      "le belongs to the buckets",
    ).toBe("ERR_LABEL_NAME");
  });

  it("keeps a name that only contains _total, and lets a gauge end in _total", () => {
    const registry = new Registry();
    registry.counter({ name: "queue_total_depth_changes", help: "x" }).inc();
    registry.gauge({ name: "disk_total", help: "x" }).set(9);
    const text = read(registry);
    expect(valueOf(text, "queue_total_depth_changes_total"), "only a trailing _total is the counter suffix").toBe(1);
    expect(valueOf(text, "disk_total"), "a gauge's name is its sample name").toBe(9);
  });

  it("accepts legal names that look like reserved ones", () => {
    const registry = new Registry();
    expect(
      () => registry.counter({ name: "c1", help: "x", labelNames: ["le"] }),
      "le is reserved on histograms only",
    ).not.toThrow();
    expect(
      () => registry.counter({ name: "c2", help: "x", labelNames: ["trailing__"] }),
      "only a leading __ is reserved",
    ).not.toThrow();
    registry.gauge({ name: "pool", help: "x" });
    expect(() => registry.gauge({ name: "pool_count", help: "x" }), "a gauge writes no _count: no clash").not.toThrow();
    registry.gauge({ name: "jobs_total", help: "x" });
    expect(
      () => registry.gauge({ name: "jobs", help: "x" }),
      "only a counter's family drops _total: the gauge jobs_total writes jobs_total, not jobs",
    ).not.toThrow();
  });

  it("takes exactly the declared labels on every sample", () => {
    const registry = new Registry();
    const counter = registry.counter({ name: "calls", help: "x", labelNames: ["service", "outcome"] });
    expect(
      codeOf(() => counter.inc({ service: "db" })),
      "a missing label",
    ).toBe("ERR_LABELS");
    expect(
      codeOf(() => counter.inc({ service: "db", outcome: "ok", extra: "x" })),
      "an undeclared label",
    ).toBe("ERR_LABELS");
    expect(
      codeOf(() => counter.inc({ service: "db", outcome: 200 as unknown as string })),
      "label values are strings",
    ).toBe("ERR_LABELS");
    expect(
      codeOf(() => counter.inc()),
      "no labels at all",
    ).toBe("ERR_LABELS");
    const single = registry.counter({ name: "by_kind", help: "x", labelNames: ["kind"] });
    expect(
      codeOf(() => single.inc({ kind: 1 as unknown as string })),
      "with one label too",
    ).toBe("ERR_LABELS");
    const plain = registry.gauge({ name: "plain", help: "x" });
    expect(codeOf(() => plain.set({ stray: "x" }, 1))).toBe("ERR_LABELS");
  });

  it("refuses a second metric that would write a sample name already taken", () => {
    const registry = new Registry();
    registry.counter({ name: "foo", help: "x" });
    expect(
      codeOf(() => registry.gauge({ name: "foo_total", help: "x" })),
      "the counter foo writes foo_total",
    ).toBe("ERR_DUPLICATE_METRIC");
    expect(
      codeOf(() => registry.counter({ name: "foo_total", help: "x" })),
      "the same counter family again",
    ).toBe("ERR_DUPLICATE_METRIC");
    registry.histogram({ name: "bar", help: "x" });
    expect(
      codeOf(() => registry.gauge({ name: "bar_count", help: "x" })),
      "the histogram bar writes bar_count",
    ).toBe("ERR_DUPLICATE_METRIC");
    expect(codeOf(() => registry.gauge({ name: "bar", help: "x" }))).toBe("ERR_DUPLICATE_METRIC");
  });
});

describe("a cap on label cardinality", () => {
  it("refuses the combination past the cap with a CardinalityLimitError and keeps the others working", () => {
    const registry = new Registry();
    const counter = registry.counter({ name: "requests", help: "x", labelNames: ["user"], maxSeries: 3 });
    for (const user of ["a", "b", "c"]) counter.inc({ user });
    let caught: unknown;
    try {
      counter.inc({ user: "d" });
    } catch (error) {
      caught = error;
    }
    expect(caught, "one label per user id is how a metrics backend falls over").toBeInstanceOf(CardinalityLimitError);
    const error = caught as CardinalityLimitError;
    expect(error).toBeInstanceOf(MetricsError);
    expect(error.code).toBe("ERR_CARDINALITY");
    expect(error.metric).toBe("requests");
    expect(error.limit).toBe(3);
    expect(error.labels, "the refused combination, for the error log").toEqual({ user: "d" });
    expect(
      error.message,
      "the message names the metric and its limit: the on-call engineer reads it at 3 a.m.",
    ).toContain("requests");
    expect(error.message).toContain("3");
    expect(() => counter.labels({ user: "e" }), "the bound-child path is capped too").toThrow(CardinalityLimitError);
    counter.inc({ user: "a" });
    const text = read(registry);
    expect(text.family("requests_total")?.samples.length, "no series was created past the cap").toBe(3);
    expect(valueOf(text, "requests_total", { user: "a" })).toBe(2);
  });

  it("applies the registry's default cap to every metric that sets none", () => {
    const registry = new Registry({ maxSeriesPerMetric: 2 });
    const histogram = registry.histogram({ name: "h_seconds", help: "x", labelNames: ["k"] });
    histogram.observe({ k: "1" }, 1);
    histogram.observe({ k: "2" }, 1);
    expect(() => histogram.observe({ k: "3" }, 1)).toThrow(CardinalityLimitError);
    const roomy = registry.gauge({ name: "g", help: "x", labelNames: ["k"], maxSeries: 5 });
    for (const k of ["1", "2", "3", "4", "5"]) roomy.set({ k }, 1);
    expect(read(registry).family("g")?.samples.length, "a metric's own cap overrides the default").toBe(5);
  });
});

describe("a cap that is a positive integer", () => {
  it("refuses a cap of 0, a negative or a fractional one with RangeError", () => {
    for (const maxSeriesPerMetric of [0, -1, 1.5]) {
      expect(() => new Registry({ maxSeriesPerMetric }), `maxSeriesPerMetric ${maxSeriesPerMetric}`).toThrow(
        RangeError,
      );
    }
    const registry = new Registry();
    for (const maxSeries of [0, 2.5]) {
      expect(() => registry.gauge({ name: `g${String(maxSeries).replace(".", "_")}`, help: "x", maxSeries })).toThrow(
        RangeError,
      );
    }
    expect(() => new Registry({ maxSeriesPerMetric: 1 }), "1 is a positive integer").not.toThrow();
    const one = registry.gauge({ name: "one", help: "x", labelNames: ["k"], maxSeries: 1 });
    one.set({ k: "a" }, 1);
    expect(() => one.set({ k: "b" }, 1), "a cap of 1 holds one series").toThrow(CardinalityLimitError);
  });
});
