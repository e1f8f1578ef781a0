import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { manualClock } from "#fixtures/clock";
import express, { type Express } from "express";
import request from "supertest";
import { afterEach, describe, expect, it } from "vitest";
import { CONTENT_TYPES } from "../src/exposition";
import { Registry } from "../src/metrics-registry";
import { HTTP_SERVER_DURATION_BUCKETS, metricsHandler, redMiddleware, UNMATCHED_ROUTE } from "../src/red-middleware";
import { checkHistograms, type Exposition, parseExposition, valueOf } from "./support/exposition";

const REQUESTS = "http_server_requests_total";
const DURATION = "http_server_request_duration_seconds";
const ACTIVE = "http_server_active_requests";

const servers: http.Server[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** Listens on an ephemeral loopback port; closed after the test. */
async function listen(app: Express): Promise<{ server: http.Server; port: number }> {
  const server = app.listen(0, "127.0.0.1");
  servers.push(server);
  await once(server, "listening");
  return { server, port: (server.address() as AddressInfo).port };
}

function read(registry: Registry): Exposition {
  const text = parseExposition(registry.render("prometheus-0.0.4"), "prometheus-0.0.4");
  checkHistograms(text);
  return text;
}

/** Distinct label sets of a family, `le` aside: its number of series. */
function seriesCount(text: Exposition, family: string, sample = family): number {
  const samples = text.family(family)?.samples.filter((s) => s.name === sample) ?? [];
  return new Set(samples.map(({ labels: { le: _le, ...rest } }) => JSON.stringify(Object.entries(rest).sort()))).size;
}

/** GETs every path over a few keep-alive connections: 1,100 requests over eight connections. */
async function getAll(port: number, paths: readonly string[]): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const get = (path: string) =>
    new Promise<void>((resolve, reject) => {
      const req = http.get({ host: "127.0.0.1", port, path, agent }, (res) => {
        res.resume();
        res.on("end", resolve);
      });
      req.on("error", reject);
    });
  try {
    let next = 0;
    const worker = async () => {
      while (next < paths.length) await get(paths[next++]!);
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  } finally {
    agent.destroy();
  }
}

/** A gate a handler waits on, opened by the test. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

function app(registry: Registry, now?: () => number): Express {
  const api = express();
  api.use(redMiddleware({ registry, now }));
  api.get("/users/:id", (_req, res) => void res.json({ ok: true }));
  api.post("/orders", (_req, res) => void res.status(201).json({ created: true }));
  api.get("/boom", () => {
    throw new Error("handler failed");
  });
  const router = express.Router();
  router.get("/invoices/:invoiceId", (_req, res) => void res.send("invoice"));
  api.use("/api/v1", router);
  api.get("/metrics", metricsHandler(registry));
  return api;
}

describe("requests and errors by method, route template and status class", () => {
  it("counts each answered request once, under its route template and status class", async () => {
    const registry = new Registry();
    const { server } = await listen(app(registry));
    await request(server).get("/users/7").expect(200);
    await request(server).get("/users/8").expect(200);
    await request(server).post("/orders").expect(201);
    await request(server).get("/boom").expect(500);
    await request(server).get("/no/such/page").expect(404);
    const text = read(registry);
    expect(
      valueOf(text, REQUESTS, { method: "GET", route: "/users/:id", status_class: "2xx" }),
      "two ids, one route",
    ).toBe(2);
    expect(valueOf(text, REQUESTS, { method: "POST", route: "/orders", status_class: "2xx" })).toBe(1);
    expect(
      valueOf(text, REQUESTS, { method: "GET", route: "/boom", status_class: "5xx" }),
      "errors are the 5xx class",
    ).toBe(1);
    expect(valueOf(text, REQUESTS, { method: "GET", route: UNMATCHED_ROUTE, status_class: "4xx" })).toBe(1);
  });

  it("keeps one series while 1,000 distinct ids and 100 probed paths come in", async () => {
    const registry = new Registry();
    const { port } = await listen(app(registry));
    const ids = Array.from({ length: 1000 }, (_, i) => `/users/${i}`);
    const probes = Array.from({ length: 100 }, (_, i) => `/probe-${i}.php`);
    const paths = [...ids, ...probes];
    await getAll(port, paths);
    const text = read(registry);
    expect(
      seriesCount(text, REQUESTS),
      "a raw path as a label is a new series per id: route templates keep it constant",
    ).toBe(2);
    expect(
      seriesCount(text, DURATION, `${DURATION}_count`),
      "the histogram multiplies every series by its buckets",
    ).toBe(2);
    expect(valueOf(text, REQUESTS, { method: "GET", route: "/users/:id", status_class: "2xx" })).toBe(1000);
    expect(
      valueOf(text, `${DURATION}_count`, { method: "GET", route: "/users/:id", status_class: "2xx" }),
      "every request timed",
    ).toBe(1000);
    expect(
      valueOf(text, REQUESTS, { method: "GET", route: UNMATCHED_ROUTE, status_class: "4xx" }),
      "a scanner probing paths must not mint series",
    ).toBe(100);
  });

  it("labels a route inside a mounted router with its full template", async () => {
    const registry = new Registry();
    const { server } = await listen(app(registry));
    await request(server).get("/api/v1/invoices/INV-1").expect(200);
    const text = read(registry);
    expect(
      valueOf(text, REQUESTS, { method: "GET", route: "/api/v1/invoices/:invoiceId", status_class: "2xx" }),
      "req.route.path alone is /invoices/:invoiceId: add req.baseUrl",
    ).toBe(1);
  });

  it("labels methods outside the standard set _OTHER, so clients cannot invent label values", async () => {
    const registry = new Registry();
    const { port } = await listen(app(registry));
    for (const method of ["PROPFIND", "MKCOL"]) {
      await new Promise<void>((resolve, reject) => {
        const req = http.request({ port, host: "127.0.0.1", method, path: "/users/1", agent: false }, (res) => {
          res.resume();
          res.on("end", resolve);
        });
        req.on("error", reject);
        req.end();
      });
    }
    const text = read(registry);
    expect(valueOf(text, REQUESTS, { method: "_OTHER", route: UNMATCHED_ROUTE, status_class: "4xx" })).toBe(2);
    expect(valueOf(text, ACTIVE, { method: "_OTHER" })).toBe(0);
  });

  it("labels the standard methods as sent", async () => {
    const registry = new Registry();
    const api = express();
    api.use(redMiddleware({ registry }));
    api.all("/any", (_req, res) => void res.status(204).end());
    const { port } = await listen(api);
    const methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH"];
    for (const method of methods) {
      await new Promise<void>((resolve, reject) => {
        const req = http.request({ port, host: "127.0.0.1", method, path: "/any", agent: false }, (res) => {
          res.resume();
          res.on("end", resolve);
        });
        req.on("error", reject);
        req.end();
      });
    }
    // CONNECT takes a different path through Node's HTTP server: it is never a routed request.
    const text = read(registry);
    for (const method of methods) {
      expect(
        valueOf(text, REQUESTS, { method, route: "/any", status_class: "2xx" }),
        `${method} is a standard method: its label is the method itself`,
      ).toBe(1);
    }
  });
});

describe("duration in seconds", () => {
  it("observes the time to the response in seconds, in OpenTelemetry's HTTP buckets", async () => {
    const clock = manualClock();
    const registry = new Registry();
    const api = express();
    api.use(redMiddleware({ registry, now: () => clock.now() }));
    api.get("/report", (_req, res) => {
      clock.advance(250);
      res.send("done");
    });
    const { server } = await listen(api);
    await request(server).get("/report").expect(200);
    const text = read(registry);
    const labels = { method: "GET", route: "/report", status_class: "2xx" };
    const les = text
      .family(DURATION)!
      .samples.filter((s) => s.name === `${DURATION}_bucket`)
      .map((s) => Number(s.labels.le!.replace("+Inf", "Infinity")));
    expect(les, "semconv's http.server.request.duration buckets").toEqual([
      ...HTTP_SERVER_DURATION_BUCKETS,
      Number.POSITIVE_INFINITY,
    ]);
    expect(
      valueOf(text, `${DURATION}_sum`, labels),
      "250 ms is 0.25 s: milliseconds in a _seconds metric are off by 1000",
    ).toBeCloseTo(0.25, 9);
    const bucket = (le: number) =>
      text.family(DURATION)!.samples.find((s) => s.name === `${DURATION}_bucket` && Number(s.labels.le) === le)?.value;
    expect(bucket(0.25), "0.25 s falls in le=0.25").toBe(1);
    expect(bucket(0.1)).toBe(0);
    expect(valueOf(text, `${DURATION}_count`, labels)).toBe(1);
  });
});

describe("requests in flight", () => {
  it("counts a request while it runs and comes back to zero, never below, after each one", async () => {
    const registry = new Registry();
    const started = gate();
    const release = gate();
    const api = express();
    api.use(redMiddleware({ registry }));
    api.get("/slow", async (_req, res) => {
      started.open();
      await release.opened;
      res.send("ok");
    });
    api.get("/fast", (_req, res) => void res.send("ok"));
    const { server } = await listen(api);
    const slow = request(server)
      .get("/slow")
      .then((r) => r.status);
    await started.opened;
    expect(valueOf(read(registry), ACTIVE, { method: "GET" }), "one request is running").toBe(1);
    release.open();
    expect(await slow).toBe(200);
    for (let i = 0; i < 5; i++) await request(server).get("/fast").expect(200);
    expect(
      valueOf(read(registry), ACTIVE, { method: "GET" }),
      "decremented once per request: both 'finish' and 'close' fire on a normal response",
    ).toBe(0);
  });

  it("comes back to zero when the client aborts mid-flight, and does not count the abandoned request", async () => {
    const registry = new Registry();
    const started = gate();
    const release = gate();
    const closed = gate();
    const api = express();
    api.use(redMiddleware({ registry }));
    api.get("/slow", async (_req, res) => {
      res.on("close", closed.open);
      started.open();
      await release.opened;
      if (!res.destroyed) res.send("too late");
    });
    const { port } = await listen(api);
    const client = http.request({ port, host: "127.0.0.1", path: "/slow", agent: false });
    client.on("error", () => {}); // the abort below makes the client's own request fail: expected
    client.end();
    await started.opened;
    expect(valueOf(read(registry), ACTIVE, { method: "GET" })).toBe(1);
    client.destroy();
    await closed.opened;
    expect(
      valueOf(read(registry), ACTIVE, { method: "GET" }),
      "the response never finishes: only 'close' says the request is over",
    ).toBe(0);
    release.open();
    expect(
      valueOf(read(registry), REQUESTS, { method: "GET", route: "/slow", status_class: "2xx" }),
      "an abandoned request has no status to count",
    ).toBeUndefined();
  });
});

describe("the /metrics endpoint", () => {
  it("answers Prometheus 3 in OpenMetrics and a plain scraper in 0.0.4, each with its exact Content-Type", async () => {
    const registry = new Registry();
    const { server } = await listen(app(registry));
    await request(server).get("/users/1").expect(200);
    const accept =
      "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,text/plain;version=0.0.4;q=0.2,*/*;q=0.1";
    const om = await request(server)
      .get("/metrics")
      .set("Accept", accept)
      .buffer(true)
      .parse((res, done) => {
        let body = "";
        res.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
        res.on("end", () => done(null, body));
      });
    expect(om.status).toBe(200);
    expect(om.headers["content-type"], "Prometheus 3 fails a scrape whose Content-Type is missing or wrong").toBe(
      CONTENT_TYPES["openmetrics-1.0.0"],
    );
    const parsed = parseExposition(om.body as string, "openmetrics-1.0.0");
    expect(valueOf(parsed, REQUESTS, { method: "GET", route: "/users/:id", status_class: "2xx" })).toBe(1);
    const text = await request(server).get("/metrics");
    expect(text.headers["content-type"]).toBe(CONTENT_TYPES["prometheus-0.0.4"]);
    expect(() => parseExposition(text.text, "prometheus-0.0.4")).not.toThrow();
  });
});

describe("telemetry never breaks a request", () => {
  it("still answers when a metric reaches its series cap, and keeps the series it has", async () => {
    const registry = new Registry({ maxSeriesPerMetric: 2 });
    const api = express();
    api.use(redMiddleware({ registry }));
    for (const name of ["a", "b", "c", "d"]) api.get(`/${name}`, (_req, res) => void res.send(name));
    api.all("/any", (_req, res) => void res.send("any"));
    const { server } = await listen(api);
    const escaped: unknown[] = [];
    const onUncaught = (error: unknown) => void escaped.push(error);
    process.on("uncaughtException", onUncaught);
    try {
      for (const name of ["a", "b", "c", "d"]) expect((await request(server).get(`/${name}`)).status).toBe(200);
      for (const method of ["post", "put", "delete"] as const) {
        expect(
          (await request(server)[method]("/any")).status,
          "past the cap, the in-flight gauge's series for a third method is refused too",
        ).toBe(200);
      }
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("uncaughtException", onUncaught);
    }
    expect(
      escaped.map(String),
      "an error thrown from a 'finish' listener is an uncaught exception: in production the process dies",
    ).toEqual([]);
    const text = read(registry);
    expect(seriesCount(text, REQUESTS)).toBe(2);
    expect(valueOf(text, ACTIVE, { method: "GET" })).toBe(0);
  });
});
