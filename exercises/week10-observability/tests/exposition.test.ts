import { manualClock } from "#fixtures/clock";
import { seededRandom } from "#fixtures/random";
import client from "prom-client";
import { describe, expect, it } from "vitest";
import { CONTENT_TYPES, type ExpositionFormat, negotiate, scrape } from "../src/exposition";
import { MetricsError, type MetricsErrorCode } from "../src/metrics-errors";
import { Registry } from "../src/metrics-registry";
import { type Exposition, meaning, parseExposition, valueOf } from "./support/exposition";

// The registry's second test file: what OpenMetrics adds, content negotiation, and the
// comparison with prom-client. The first (metrics-registry.test.ts) covers the metric kinds.

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

describe("OpenMetrics 1.0.0", () => {
  it("ends with # EOF, types a counter under its family name and names its samples _total", () => {
    const registry = new Registry();
    registry.counter({ name: "logins_total", help: "Logins.", labelNames: ["result"] }).inc({ result: "ok" }, 7);
    const body = registry.render(OM);
    expect(body.endsWith("# EOF\n"), "a scrape without # EOF is treated as cut short and thrown away").toBe(true);
    const text = parseExposition(body, OM);
    expect(
      text.family("logins")?.type,
      "the family is 'logins'; 'logins_total' would give logins_total_total samples",
    ).toBe("counter");
    expect(valueOf(text, "logins_total", { result: "ok" })).toBe(7);
  });

  it("writes the unit in a UNIT line and refuses a unit that does not end the name", () => {
    const clock = manualClock();
    const registry = new Registry({ clock });
    registry.histogram({
      name: "http_server_request_duration_seconds",
      help: "Latency.",
      unit: "seconds",
      buckets: [1],
    });
    registry.counter({ name: "cpu_seconds_total", help: "CPU.", unit: "seconds" }).inc(2);
    const text = read(registry, OM);
    expect(text.family("http_server_request_duration_seconds")?.unit).toBe("seconds");
    expect(text.family("cpu_seconds")?.unit, "a counter's unit ends its family name, before _total").toBe("seconds");
    expect(
      codeOf(() => registry.gauge({ name: "heap_used", help: "Heap.", unit: "bytes" })),
      "OpenMetrics: the unit MUST be a suffix of the name",
    ).toBe("ERR_UNIT");
    expect(codeOf(() => registry.gauge({ name: "heap_used_megabytes", help: "Heap.", unit: "bytes" }))).toBe(
      "ERR_UNIT",
    );
  });

  it("gives _created, when written, in seconds since the epoch", () => {
    const clock = manualClock();
    const registry = new Registry({ clock });
    const counter = registry.counter({ name: "orders", help: "Orders.", labelNames: ["shop"] });
    clock.advance(1500);
    counter.inc({ shop: "eu" });
    const created = read(registry, OM)
      .family("orders")!
      .samples.filter((s) => s.name === "orders_created");
    for (const sample of created)
      expect(sample.value, "OpenMetrics timestamps are seconds, not milliseconds").toBe(
        (Date.UTC(2026, 0, 1) + 1500) / 1000,
      );
    expect(valueOf(read(registry, OM), "orders_total", { shop: "eu" })).toBe(1);
  });
});

describe("content negotiation", () => {
  const PROMETHEUS_3 = [
    "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5",
    "application/openmetrics-text;version=0.0.1;q=0.4",
    "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3",
    "text/plain;version=0.0.4;q=0.2",
    "*/*;q=0.1",
  ].join(",");
  const PROMETHEUS_3_PROTO = [
    "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5",
    "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.4",
    "application/openmetrics-text;version=0.0.1;q=0.3",
    "text/plain;version=0.0.4;q=0.1",
    "*/*;q=0.0",
  ].join(",");
  const PROMETHEUS_2 = "application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
  const cases: Array<[string | undefined, ExpositionFormat, string]> = [
    [PROMETHEUS_3, OM, "Prometheus 3's default header prefers OpenMetrics 1.0.0"],
    [PROMETHEUS_3_PROTO, OM, "protobuf first, which this registry does not write: the next best"],
    [PROMETHEUS_2, TEXT, "OpenMetrics 0.0.1 is not a version we write"],
    [undefined, TEXT, "no Accept: the last resort"],
    ["", TEXT, "an empty Accept"],
    ["*/*", TEXT, "anything: the format every scraper reads"],
    ["application/openmetrics-text", OM, "no version means 1.0.0"],
    [
      'APPLICATION/OpenMetrics-Text; Version="1.0.0"',
      OM,
      "media types and parameter names are case-insensitive; values may be quoted",
    ],
    ["application/openmetrics-text;version=1.0.0;q=0.1,text/plain;q=0.9", TEXT, "q decides, not the order"],
    ["text/plain;q=0, */*", OM, "q=0 means not acceptable"],
    ["application/openmetrics-text, */*", OM, "equal q: the format named explicitly wins over the wildcard"],
    ["application/*;q=0.8, text/*;q=0.5", OM, "type wildcards"],
    ["application/json", TEXT, "nothing we write: the last resort"],
    ["application/openmetrics-text;q=0", TEXT, "OpenMetrics refused, nothing else named: the last resort"],
    ["text/plain;version=1.0.0;escaping=allow-utf-8", TEXT, "text 1.0.0 is not written here; the last resort"],
    [
      "text/plain;version=1.0.0;q=0.9,text/plain;version=0.0.4;q=0.2,application/openmetrics-text;q=0.5",
      OM,
      "a range with another version does not match",
    ],
    [";;;,,=,/", TEXT, "garbage"],
    ['application/openmetrics-text;note="a,b;c";q=0.5, text/plain;q=0.4', OM, "a quoted parameter may hold , and ;"],
    [
      'application/openmetrics-text;note="say \\"hi\\", ok";q=0.5, text/plain;q=0.4',
      OM,
      "an escaped quote inside a quoted string",
    ],
    ['application/openmetrics-text;version="1.0.0', TEXT, "an unterminated quote is not the version 1.0.0"],
    ["*/plain, application/openmetrics-text;q=0.5", OM, "*/plain is not a media range: skipped"],
    ["textplain, application/openmetrics-text;q=0.5", OM, "no slash: skipped"],
    ["application/openmetrics-text;garbage;q=0.5, text/plain;q=0.4", OM, "a parameter without = is ignored"],
    ["application/openmetrics-text;q=2, text/plain;q=0.5", TEXT, "q above 1 is malformed: the range is skipped"],
    ["application/openmetrics-text;q=0.0001, text/plain;q=0.5", TEXT, "q has at most three decimals"],
    ["application/openmetrics-text;q=1.000, text/plain;q=0.999", OM, "q=1.000 is 1"],
    [
      "application/openmetrics-text;version=1.0.0;q=0.2, application/*;q=0.9, text/plain;q=0.5",
      TEXT,
      "the most specific range decides",
    ],
    [
      "text/plain;q=0.1, text/plain;q=0.6, application/openmetrics-text;q=0.5",
      TEXT,
      "two equally specific ranges: the higher q",
    ],
    ["application/openmetrics-text, text/plain", TEXT, "equal q, equally specific: text 0.0.4"],
    ["application/*, text/plain", TEXT, "equal q: the more specific range wins, whichever format it names"],
    [
      "application/*;q=0.9, application/openmetrics-text;version=1.0.0;q=0.2, text/plain;q=0.5",
      TEXT,
      "the most specific range decides, wherever it stands in the header",
    ],
    [
      "text/plain;q=0.6, text/plain;q=0.1, application/openmetrics-text;q=0.5",
      TEXT,
      "two equally specific ranges: the higher q, whichever comes first",
    ],
    ["application/openmetrics-text; q=0.1, text/plain; q=0.9", TEXT, "optional whitespace before a parameter"],
    ["text/plain;q=1, application/openmetrics-text;q=0.9", TEXT, "q=1 without decimals is valid"],
    ["application/openmetrics-text;q=10, text/plain;q=0.5", TEXT, "q=10 is malformed: the range is skipped"],
    ["application/openmetrics-text;q=1.5, text/plain;q=0.5", TEXT, "q=1.5 is malformed too"],
    [
      'application/openmetrics-text;note="a;q=0";q=0.5, text/plain;q=0.4',
      OM,
      "a ; inside a quoted string does not start a parameter",
    ],
    [
      'text/plain;q=0.2, application/openmetrics-text;q=0.5;note="a, text/plain;x=1"',
      OM,
      "a , inside a quoted string does not start a media range",
    ],
    [
      'text/plain;q=0.2, application/openmetrics-text;q=0.5;note="a\\",text/plain;x=1"',
      OM,
      "an escaped quote does not end the quoted string",
    ],
    [
      'application/openmetrics-text;version="1.\\0.0"',
      OM,
      "a quoted-pair inside a quoted version stands for its character",
    ],
  ];

  it.each(cases)("%s gets %s (%s)", (accept, format) => {
    expect(negotiate(accept)).toBe(format);
  });

  it("answers each format with exactly its Content-Type and a body in that format", () => {
    const registry = new Registry();
    registry.counter({ name: "scrapes", help: "x" }).inc();
    for (const [accept, format] of [
      [PROMETHEUS_3, OM],
      [undefined, TEXT],
    ] as const) {
      const answer = scrape(registry, accept);
      expect(answer.format).toBe(format);
      expect(answer.contentType, "Prometheus 3 fails a scrape whose Content-Type is missing or wrong").toBe(
        CONTENT_TYPES[format],
      );
      const [mediaType, ...params] = answer.contentType.split(";").map((p) => p.trim());
      expect(mediaType).toBe(format === OM ? "application/openmetrics-text" : "text/plain");
      expect(params).toContain(format === OM ? "version=1.0.0" : "version=0.0.4");
      expect(
        () => parseExposition(answer.body, format),
        "the body is in the format the Content-Type announces",
      ).not.toThrow();
    }
  });
});

describe("the same output as prom-client 15.1.3 for the same observations", () => {
  /** The same seeded observations into our registry and into prom-client's. */
  type TheirRegistry = client.Registry<client.PrometheusContentType> | client.Registry<client.OpenMetricsContentType>;

  function observeBoth(random: () => number, theirs: TheirRegistry, help: string) {
    const ours = new Registry();
    const labelNames = ["route", "status"];
    const oc = ours.counter({ name: "api_requests_total", help, labelNames });
    const tc = new client.Counter({ name: "api_requests_total", help, labelNames, registers: [theirs] });
    const og = ours.gauge({ name: "api_queue_depth", help: "Depth.", labelNames: ["queue"] });
    const tg = new client.Gauge({
      name: "api_queue_depth",
      help: "Depth.",
      labelNames: ["queue"],
      registers: [theirs],
    });
    const buckets = [0.005, 0.025, 0.1, 0.5, 1, 2.5];
    const oh = ours.histogram({ name: "api_latency_seconds", help: "Latency.", labelNames: ["route"], buckets });
    const th = new client.Histogram({
      name: "api_latency_seconds",
      help: "Latency.",
      labelNames: ["route"],
      buckets,
      registers: [theirs],
    });
    const routes = ["/users/:id", "/orders", 'we"ird\\route\n'];
    for (let i = 0; i < 2000; i++) {
      const route = routes[Math.floor(random() * routes.length)]!;
      const status = random() < 0.9 ? "200" : "500";
      const by = Math.floor(random() * 3);
      oc.inc({ route, status }, by);
      tc.inc({ route, status }, by);
      const seconds = Math.round(random() * 3000) / 1000;
      oh.observe({ route }, seconds);
      th.observe({ route }, seconds);
    }
    const depths: Array<[string, number]> = [
      ["a", 3],
      ["nan", Number.NaN],
      ["inf", Number.POSITIVE_INFINITY],
      ["neg", -2.5],
    ];
    for (const [queue, depth] of depths) {
      og.set({ queue }, depth);
      tg.set({ queue }, depth);
    }
    return ours;
  }

  it("in the text format 0.0.4", async () => {
    const theirs = new client.Registry();
    const ours = observeBoth(seededRandom(10), theirs, 'Requests by route \\ and "status".');
    const expected = meaning(parseExposition(await theirs.metrics(), TEXT));
    expect(meaning(read(ours, TEXT)), "same families, same series, same values (order and le spelling aside)").toEqual(
      expected,
    );
  });

  it("in OpenMetrics 1.0.0, _created and UNIT aside (prom-client writes neither)", async () => {
    const theirs = new client.Registry<client.OpenMetricsContentType>();
    theirs.setContentType(client.Registry.OPENMETRICS_CONTENT_TYPE);
    // prom-client leaves a double quote in HELP unescaped, which OpenMetrics forbids: no quote here.
    const ours = observeBoth(seededRandom(11), theirs, "Requests by route and status.");
    const expected = meaning(parseExposition(await theirs.metrics(), OM));
    expect(meaning(read(ours, OM))).toEqual(expected);
  });
});
