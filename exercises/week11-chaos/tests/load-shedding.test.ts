import express, { type ErrorRequestHandler, type Express } from "express";
import request from "supertest";
import { afterEach, describe, expect, it } from "vitest";
import { Bulkhead } from "../src/bulkhead";
import {
  eventLoopMonitor,
  isHealthCheck,
  loadShedding,
  type EventLoopMonitor,
  type LoadSheddingOptions,
} from "../src/load-shedding";
import { drive, limitedDependency, quantile, serving, type Sample } from "./support/load";
import { eventually, within } from "./support/sockets";

const monitors: EventLoopMonitor[] = [];
afterEach(() => {
  for (const monitor of monitors.splice(0)) monitor.close();
});

/** An app whose /work waits on `work`, with /health and /ready that answer at once. */
function app(work: () => Promise<void>, shedding?: LoadSheddingOptions): Express {
  const application = express();
  if (shedding) application.use(loadShedding(shedding));
  application.get("/health", (_req, res) => void res.send("ok"));
  application.get("/ready", (_req, res) => void res.send("ready"));
  application.get("/work", async (_req, res) => {
    await work();
    res.send("done");
  });
  application.get("/block", (_req, res) => {
    block(300);
    res.send("blocked");
  });
  return application;
}

/** Blocks the event loop on purpose: the CPU-bound request every service meets one day. */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

const idle = () => Promise.resolve();

describe("shedding on a signal", () => {
  it("answers 503 with Retry-After while the event loop is late, and serves again once it is not", async () => {
    let delay = 500;
    const bulkhead = new Bulkhead({ maxConcurrent: 10, maxQueue: 10, queueTimeoutMs: 1_000 });
    const application = app(idle, {
      bulkhead,
      eventLoopDelayMs: () => delay,
      maxEventLoopDelayMs: 100,
      retryAfterSeconds: 2,
    });
    const refused = await request(application).get("/work");
    expect(refused.status, "an overloaded loop would make this request late anyway: refuse it cheaply").toBe(503);
    expect(refused.headers["retry-after"], "a 503 says when to come back").toBe("2");
    delay = 5;
    expect((await request(application).get("/work")).status).toBe(200);
  });

  it("never sheds health checks, even when everything else is shed", async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 0, queueTimeoutMs: 1_000 });
    const application = app(idle, { bulkhead, eventLoopDelayMs: () => 10_000, maxEventLoopDelayMs: 100 });
    expect((await request(application).get("/work")).status).toBe(503);
    const health = await request(application).get("/health");
    expect(
      health.status,
      "a shed health check tells the orchestrator to kill a busy but healthy instance, which moves its load to the " +
        "others",
    ).toBe(200);
    expect((await request(application).get("/ready")).status, "readiness probes are exempt too").toBe(200);
  });

  it("answers 503 with Retry-After when the bulkhead and its queue are full", async () => {
    const held: (() => void)[] = [];
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 1, queueTimeoutMs: 10_000 });
    const application = app(() => new Promise<void>((resolve) => held.push(resolve)), { bulkhead });
    await serving(application, async (base) => {
      const first = fetch(`${base}/work`);
      const second = fetch(`${base}/work`);
      await eventually(() => bulkhead.active === 1 && bulkhead.queued === 1, "one request running and one waiting");
      const third = await within(
        fetch(`${base}/work`),
        "an answer to a request that finds the bulkhead and its queue full (it must be refused at once)",
      );
      expect(third.status, "with every slot and queue place taken, the third request is shed").toBe(503);
      expect(Number(third.headers.get("retry-after")), "with a Retry-After in whole seconds").toBeGreaterThanOrEqual(1);
      await third.text();
      held.shift()?.();
      await eventually(() => held.length === 1, "the queued request starting");
      held.shift()?.();
      expect([(await first).status, (await second).status], "the running and the queued request are served").toEqual([
        200, 200,
      ]);
      expect(bulkhead.active, "a finished response frees its slot").toBe(0);
    });
  });

  it("sheds after the event loop was blocked, measured by eventLoopMonitor, and recovers when it is free", async () => {
    // Sampled every 100 ms: a calm loop must then read well under 150 ms, not "late by one interval".
    const monitor = eventLoopMonitor({ intervalMs: 100, windowMs: 2_000 });
    monitors.push(monitor);
    const bulkhead = new Bulkhead({ maxConcurrent: 50, maxQueue: 50, queueTimeoutMs: 1_000 });
    const application = app(idle, { bulkhead, eventLoopDelayMs: monitor.delayMs, maxEventLoopDelayMs: 150 });
    await serving(application, async (base) => {
      await (await fetch(`${base}/block`)).text();
      await eventually(() => monitor.delayMs() > 150, "the monitor noticing a 300 ms block");
      expect((await fetch(`${base}/work`)).status, "right after a 300 ms block the loop is overloaded: shed").toBe(503);
      expect((await fetch(`${base}/health`)).status).toBe(200);
      await eventually(
        () => monitor.delayMs() < 150,
        "the monitor forgetting the block once the loop was free for its window",
        8_000,
      );
      expect((await fetch(`${base}/work`)).status, "a calm loop serves again").toBe(200);
    });
  });
});

describe("the event-loop monitor", () => {
  it("starts with its defaults, refuses a window shorter than its interval, and samples nothing after close()", async () => {
    const defaults = eventLoopMonitor();
    monitors.push(defaults);
    expect(defaults.delayMs(), "a fresh monitor reports a delay in ms").toBeGreaterThanOrEqual(0);
    expect(
      () => eventLoopMonitor({ intervalMs: 50, windowMs: 10 }),
      "a window shorter than one interval remembers nothing",
    ).toThrow(RangeError);
    const oneInterval = eventLoopMonitor({ intervalMs: 50, windowMs: 50 });
    monitors.push(oneInterval);

    const monitor = eventLoopMonitor({ intervalMs: 20, windowMs: 2_000 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    monitor.close();
    const before = monitor.delayMs();
    block(300);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(
      monitor.delayMs(),
      "a closed monitor has stopped its timer and histogram: a 300 ms block after close() must not show",
    ).toBeLessThan(before + 150);
  });
});

describe("the rules of the middleware", () => {
  it("recognises health and readiness probes: GET or HEAD of /health, /healthz, /ready, /live", async () => {
    const seen: Record<string, boolean> = {};
    const application = express();
    application.use((req, res) => void res.json((seen[`${req.method} ${req.path}`] = isHealthCheck(req))));
    const probes = [
      ["get", "/health"],
      ["head", "/ready"],
      ["get", "/healthz"],
      ["get", "/live"],
      ["post", "/health"],
      ["get", "/work"],
    ] as const;
    for (const [method, path] of probes) {
      await request(application)[method](path);
    }
    expect(seen).toEqual({
      "GET /health": true,
      "HEAD /ready": true,
      "GET /healthz": true,
      "GET /live": true,
      "POST /health": false,
      "GET /work": false,
    });
  });

  it("sheds only when the delay is above the threshold (default 100 ms), and honours a custom isExempt", async () => {
    let delay = 100;
    const bulkhead = new Bulkhead({ maxConcurrent: 10, maxQueue: 10, queueTimeoutMs: 1_000 });
    const application = app(idle, {
      bulkhead,
      eventLoopDelayMs: () => delay,
      isExempt: (req) => req.path === "/block",
    });
    expect((await request(application).get("/work")).status, "at the threshold is not above it").toBe(200);
    delay = 101;
    const shed = await request(application).get("/work");
    expect(shed.status).toBe(503);
    expect(shed.headers["retry-after"], "Retry-After defaults to 1 second").toBe("1");
    expect((await request(application).get("/block")).status, "the exemption is the caller's choice").toBe(200);
    expect(() => loadShedding({ bulkhead, retryAfterSeconds: 0 }), "Retry-After is whole seconds >= 1").toThrow(
      RangeError,
    );
    expect(() => loadShedding({ bulkhead, retryAfterSeconds: 1.5 })).toThrow(RangeError);
    expect(() => eventLoopMonitor({ intervalMs: 0 })).toThrow(RangeError);
  });

  it("hands an error that is not a refusal to next(error), for the app's error handler", async () => {
    class BrokenBulkhead extends Bulkhead {
      override run<T>(): Promise<T> {
        return Promise.reject(new Error("the bulkhead itself broke"));
      }
    }
    const seen: unknown[] = [];
    const application = express();
    application.use(
      loadShedding({ bulkhead: new BrokenBulkhead({ maxConcurrent: 1, maxQueue: 0, queueTimeoutMs: 100 }) }),
    );
    application.get("/work", (_req, res) => void res.send("done"));
    const handler: ErrorRequestHandler = (error, _req, res, _next) => {
      seen.push(error);
      res.status(500).send("handled");
    };
    application.use(handler);
    const response = await request(application).get("/work");
    expect(
      response.status,
      "only BulkheadFullError and QueueTimeoutError mean 'no capacity': a 503 for any other error hides a bug " +
        "behind a retryable answer",
    ).toBe(500);
    expect(
      seen.map((error) => (error as Error).message),
      "the error reached the app's error handler",
    ).toEqual(["the bulkhead itself broke"]);
  });

  it("answers 503 to a request whose wait in the queue ran out", async () => {
    const held: (() => void)[] = [];
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 1, queueTimeoutMs: 100 });
    const application = app(() => new Promise<void>((resolve) => held.push(resolve)), { bulkhead });
    await serving(application, async (base) => {
      const first = fetch(`${base}/work`);
      await eventually(() => bulkhead.active === 1, "the first request running");
      const late = await within(fetch(`${base}/work`), "the queued request being answered");
      expect(late.status, "a request that waited queueTimeoutMs is shed, not served late").toBe(503);
      expect(late.headers.get("retry-after")).toBe("1");
      await late.text();
      held.shift()?.();
      expect((await first).status).toBe(200);
    });
  });

  it("takes a request out of the queue when its client goes away", async () => {
    const held: (() => void)[] = [];
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 1, queueTimeoutMs: 30_000 });
    const application = app(() => new Promise<void>((resolve) => held.push(resolve)), { bulkhead });
    await serving(application, async (base) => {
      const first = fetch(`${base}/work`);
      await eventually(() => bulkhead.active === 1, "the first request running");
      const leaving = new AbortController();
      const gone = fetch(`${base}/work`, { signal: leaving.signal }).catch(() => undefined);
      await eventually(() => bulkhead.queued === 1, "the second request queued");
      leaving.abort();
      await gone;
      await eventually(
        () => bulkhead.queued === 0,
        "the queue forgetting a client that went away (long before its queue timeout)",
      );
      held.shift()?.();
      expect((await first).status).toBe(200);
    });
  });
});

describe("clients that go away", () => {
  it("frees the slot of a running request as soon as its client disconnects", async () => {
    const held: (() => void)[] = [];
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 0, queueTimeoutMs: 1_000 });
    const application = app(() => new Promise<void>((resolve) => held.push(resolve)), { bulkhead });
    await serving(application, async (base) => {
      const leaving = new AbortController();
      const gone = fetch(`${base}/work`, { signal: leaving.signal }).catch(() => undefined);
      await eventually(() => bulkhead.active === 1, "the request running");
      leaving.abort();
      await gone;
      await eventually(
        () => bulkhead.active === 0,
        "the slot being freed: nobody will read this response, so waiting for its 'finish' holds the slot forever",
      );
      held.shift()?.();
    });
  });

  it("gives no slot to a request whose client left before it reached the middleware", async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 0, queueTimeoutMs: 1_000 });
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    let clientLeft!: () => void;
    const left = new Promise<void>((resolve) => (clientLeft = resolve));
    let arrived = false;
    const application = express();
    // A slow step before the shedding (an authentication call, say), during which the client gives up.
    application.use(async (req, res, next) => {
      if (req.path === "/slow") {
        arrived = true;
        res.once("close", clientLeft);
        await gate;
      }
      next();
    });
    application.use(loadShedding({ bulkhead }));
    application.get("/slow", (_req, res) => void res.send("too late"));
    application.get("/work", (_req, res) => void res.send("done"));
    await serving(application, async (base) => {
      const leaving = new AbortController();
      const gone = fetch(`${base}/slow`, { signal: leaving.signal }).catch(() => undefined);
      await eventually(() => arrived, "the request reaching the slow first step");
      leaving.abort();
      await gone;
      await within(left, "the server seeing the client leave");
      openGate();
      await eventually(() => bulkhead.active === 0, "the abandoned request releasing whatever it took");
      const next = await within(fetch(`${base}/work`), "the next request being answered");
      expect(
        next.status,
        "its 'close' came before the middleware could listen for it: a slot taken now would never be given back",
      ).toBe(200);
    });
  });
});

describe("under real load past capacity", () => {
  // A dependency that serves 2 calls at once, 40 ms each: 50 calls/s at most. The load offers
  // 150/s for about a second. Unprotected, the line in front of the dependency grows for the
  // whole run; protected, at most 2 run and 2 wait, and the rest are refused at once. The
  // rates are low on purpose: the point is the dependency's capacity, not the CPU's.
  const plan = { requests: 160, perSecond: 150, path: (i: number) => (i % 10 === 0 ? "/health" : "/work") };
  const work = (samples: Sample[]) => samples.filter((s) => s.path === "/work");

  it("keeps accepted requests fast, sheds the rest with 503 + Retry-After, and answers health checks", async () => {
    const unprotectedDependency = limitedDependency(2, 40);
    const unprotected = await serving(app(unprotectedDependency.call), (base) => drive(base, plan));
    const bulkhead = new Bulkhead({ maxConcurrent: 2, maxQueue: 2, queueTimeoutMs: 100 });
    const protectedDependency = limitedDependency(2, 40);
    const guarded = await serving(app(protectedDependency.call, { bulkhead }), (base) => drive(base, plan));

    // Health checks are answered at once in both runs, so their median is what this machine
    // adds to any request right now (a loaded CPU slows everything): compare what is left.
    const baseline = (samples: Sample[]) =>
      quantile(
        samples.filter((s) => s.path === "/health").map((s) => s.latencyMs),
        0.5,
      );
    // The median, not a tail: a burst of CPU starvation on a shared machine can stretch any
    // single request, but it cannot move half of them by the length of the dependency's line.
    const typicalUnprotected =
      quantile(
        work(unprotected).map((s) => s.latencyMs),
        0.5,
      ) - baseline(unprotected);
    const accepted = work(guarded).filter((s) => s.status === 200);
    const shed = work(guarded).filter((s) => s.status === 503);
    expect(
      work(unprotected).every((s) => s.status === 200),
      "without protection every request is served, eventually",
    ).toBe(true);
    expect(accepted.length, "the protected service still serves what it can").toBeGreaterThanOrEqual(20);
    expect(shed.length, "and sheds what it cannot: 150/s offered to a 50/s dependency").toBeGreaterThanOrEqual(20);
    expect(accepted.length + shed.length, "every request gets an answer, 200 or 503").toBe(work(guarded).length);
    expect(
      shed.every((s) => Number(s.retryAfter) >= 1),
      "every 503 says when to come back (Retry-After)",
    ).toBe(true);
    const typicalAccepted =
      quantile(
        accepted.map((s) => s.latencyMs),
        0.5,
      ) - baseline(guarded);
    expect(
      typicalAccepted,
      `accepted requests must stay fast: median ${typicalAccepted.toFixed(0)} ms protected vs ` +
        `${typicalUnprotected.toFixed(0)} ms unprotected, beyond what a health check takes ` +
        `(the line in front of the dependency grew to ${unprotectedDependency.peakWaiting()})`,
    ).toBeLessThan(typicalUnprotected / 3);
    expect(protectedDependency.peakWaiting(), "the bulkhead keeps the dependency's own line short").toBeLessThanOrEqual(
      2,
    );
    const health = guarded.filter((s) => s.path === "/health");
    expect(
      health.every((s) => s.status === 200),
      "health checks are answered 200 under overload: they are exempt",
    ).toBe(true);
  }, 30_000);
});
