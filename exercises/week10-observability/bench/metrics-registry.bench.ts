// The registry against prom-client 15.1.3, the library a Node service would reach for. Target:
// at least as many observations per second, and a scrape of 1,000 series at least as fast.
// Both get the same metrics, the same label values and the same observations.
import { benchCase } from "#fixtures/bench";
import client from "prom-client";
import { Registry } from "../src/metrics-registry";

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const LABELS = ["method", "route", "status_class"];
const routes = Array.from({ length: 20 }, (_, i) => `/api/v1/resource${i}/:id`);
const labelSets = routes.flatMap((route) =>
  ["2xx", "4xx", "5xx"].map((status_class) => ({ method: "GET", route, status_class })),
);
const values = Array.from({ length: 1024 }, (_, i) => ((i * 7919) % 10_000) / 1000);

function histograms() {
  const ours = new Registry().histogram({
    name: "http_server_request_duration_seconds",
    help: "Latency.",
    labelNames: LABELS,
    buckets: BUCKETS,
  });
  const theirs = new client.Histogram({
    name: "http_server_request_duration_seconds",
    help: "Latency.",
    labelNames: LABELS,
    buckets: BUCKETS,
    registers: [new client.Registry()],
  });
  return { ours, theirs };
}

{
  const { ours, theirs } = histograms();
  let i = 0;
  let j = 0;
  benchCase("histogram observe, labels passed on every call", {
    ours: () => {
      ours.observe(labelSets[i % labelSets.length]!, values[i++ & 1023]!);
    },
    yardstick: {
      library: "prom-client 15",
      run: () => {
        theirs.observe(labelSets[j % labelSets.length]!, values[j++ & 1023]!);
      },
    },
  });
}

{
  const { ours, theirs } = histograms();
  const ourChild = ours.labels(labelSets[0]!);
  const theirChild = theirs.labels(labelSets[0]!);
  let i = 0;
  let j = 0;
  benchCase("histogram observe through a bound child", {
    ours: () => {
      ourChild.observe(values[i++ & 1023]!);
    },
    yardstick: {
      library: "prom-client 15",
      run: () => {
        theirChild.observe(values[j++ & 1023]!);
      },
    },
  });
}

{
  const ours = new Registry().counter({ name: "http_server_requests_total", help: "Requests.", labelNames: LABELS });
  const theirs = new client.Counter({
    name: "http_server_requests_total",
    help: "Requests.",
    labelNames: LABELS,
    registers: [new client.Registry()],
  });
  let i = 0;
  let j = 0;
  benchCase("counter inc, labels passed on every call", {
    ours: () => {
      ours.inc(labelSets[i++ % labelSets.length]!);
    },
    yardstick: {
      library: "prom-client 15",
      run: () => {
        theirs.inc(labelSets[j++ % labelSets.length]!);
      },
    },
  });
}

{
  const ours = new Registry();
  const theirs = new client.Registry();
  const oc = ours.counter({ name: "jobs_processed_total", help: "Jobs.", labelNames: ["queue", "outcome"] });
  const tc = new client.Counter({
    name: "jobs_processed_total",
    help: "Jobs.",
    labelNames: ["queue", "outcome"],
    registers: [theirs],
  });
  const og = ours.gauge({ name: "queue_depth", help: "Depth.", labelNames: ["queue"] });
  const tg = new client.Gauge({ name: "queue_depth", help: "Depth.", labelNames: ["queue"], registers: [theirs] });
  for (let q = 0; q < 500; q++) {
    const queue = `queue-${q}`;
    oc.inc({ queue, outcome: "ok" }, q);
    tc.inc({ queue, outcome: "ok" }, q);
    og.set({ queue }, q / 3);
    tg.set({ queue }, q / 3);
  }
  benchCase("render 1,000 series in the text format 0.0.4", {
    ours: () => {
      ours.render("prometheus-0.0.4");
    },
    yardstick: {
      library: "prom-client 15",
      run: async () => {
        await theirs.metrics();
      },
    },
  });
}
