import { once } from "node:events";
import type { Server } from "node:http";
import net, { type AddressInfo } from "node:net";
import express, { type Express } from "express";
import request from "supertest";
import { afterEach, describe, expect, it } from "vitest";
import { manualClock } from "#fixtures/clock";
import { blackholeServer, closedPort } from "#fixtures/net";
import { createHealth, type HealthCheck, type HealthOptions } from "../src/health";
import { PROBE_PATHS } from "../src/probe-paths";

const { liveness, readiness, startup } = PROBE_PATHS;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function deferred(): { promise: Promise<void>; resolve(): void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** A real TCP dependency check: connects, sends PING, expects any reply. Honours its signal. */
function tcpCheck(
  name: string,
  port: number,
  extra: Partial<HealthCheck> = {},
): HealthCheck & { signals: AbortSignal[] } {
  const signals: AbortSignal[] = [];
  return {
    name,
    signals,
    ...extra,
    check: (signal) =>
      new Promise<void>((resolve, reject) => {
        signals.push(signal);
        const socket = net.connect(port, "127.0.0.1");
        const stop = (error?: Error) => {
          socket.destroy();
          if (error) reject(error);
          else resolve();
        };
        signal.addEventListener("abort", () => stop(new Error("aborted")), { once: true });
        socket.once("connect", () => socket.write("PING\r\n"));
        socket.once("data", () => stop());
        socket.once("error", (error) => stop(error));
      }),
  };
}

/** A dependency that answers every PING. */
async function pongServer(): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("data", () => socket.write("PONG\r\n"));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as AddressInfo).port;
}

/** A check the test drives by hand, counting its calls. */
function manualCheck(name: string, behaviour: () => Promise<void> = async () => {}, extra: Partial<HealthCheck> = {}) {
  const counter = { calls: 0 };
  const check: HealthCheck = {
    name,
    ...extra,
    check: () => {
      counter.calls++;
      return behaviour();
    },
  };
  return Object.assign(counter, { check });
}

function started(options: HealthOptions) {
  const health = createHealth(options);
  health.markStarted();
  const app = express();
  app.use(health.router);
  return { health, app };
}

async function listen(app: Express): Promise<string> {
  const server: Server = app.listen(0, "127.0.0.1");
  await once(server, "listening");
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Settles with the probe's response, or fails with `why` if it takes longer than `ms`. */
async function within<T>(promise: PromiseLike<T>, ms: number, why: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(why)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe("liveness checks the process only", () => {
  it("answers /livez with 200 while a dependency is down, before start-up and while draining, and runs no check", async () => {
    const down = manualCheck("postgres", async () => {
      throw new Error("down");
    });
    const health = createHealth({ checks: [down.check] });
    const app = express().use(health.router);
    expect((await request(app).get(liveness)).status, "before start-up: the kubelet would restart a booting pod").toBe(
      200,
    );
    health.markStarted();
    const live = await request(app).get(liveness);
    expect(live.status, "a database outage must not restart every pod at once").toBe(200);
    expect(live.body).toEqual({ status: "ok" });
    health.markDraining();
    expect(
      (await request(app).get(liveness)).status,
      "a draining pod is alive: a restart now would drop its in-flight requests",
    ).toBe(200);
    expect(down.calls, "liveness must not touch dependencies").toBe(0);
  });

  it("stays 200 and readyz turns 503 with a real dependency down (nothing listens on its port)", async () => {
    const { app } = started({ checks: [tcpCheck("postgres", await closedPort())] });
    const ready = await request(app).get(readiness);
    expect(ready.status, "a pod whose database is unreachable must leave the Service's endpoints").toBe(503);
    expect(ready.body).toEqual({ status: "fail", checks: { postgres: "fail" } });
    expect((await request(app).get(liveness)).status, "liveness must not depend on the database").toBe(200);
  });
});

describe("start-up gate", () => {
  it("answers /startupz and /readyz with 503 'starting' until markStarted, running no check, then 200", async () => {
    const db = manualCheck("postgres");
    const health = createHealth({ checks: [db.check] });
    const app = express().use(health.router);
    const early = await request(app).get(startup);
    expect(early.status, "start-up is not done until the service says so").toBe(503);
    expect(early.body).toEqual({ status: "starting" });
    const earlyReady = await request(app).get(readiness);
    expect(earlyReady.status, "a booting pod must not get traffic").toBe(503);
    expect(earlyReady.body).toEqual({ status: "starting", checks: {} });
    expect(db.calls, "there is nothing to check before start-up").toBe(0);
    health.markStarted();
    const done = await request(app).get(startup);
    expect(done.status).toBe(200);
    expect(done.body).toEqual({ status: "ok" });
    expect((await request(app).get(readiness)).status).toBe(200);
  });
});

describe("readiness checks the dependencies", () => {
  it("answers 200 with every check 'ok' when the real dependencies answer", async () => {
    const port = await pongServer();
    const { app } = started({ checks: [tcpCheck("postgres", port), tcpCheck("redis", port)] });
    const res = await request(app).get(readiness);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok", checks: { postgres: "ok", redis: "ok" } });
  });

  it("gives a hanging dependency 'timeout' within the check's own timeout, and aborts its signal", async () => {
    const blackhole = await blackholeServer();
    cleanups.push(() => blackhole.close());
    const hanging = tcpCheck("postgres", blackhole.port, { timeoutMs: 200 });
    const { app } = started({ checks: [hanging] });
    const res = await within(
      request(app).get(readiness),
      5_000,
      "readyz did not answer within 5 s while its check hung: give every check its own timeout, or the probe hangs with the database",
    );
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ status: "fail", checks: { postgres: "timeout" } });
    expect(hanging.signals[0]?.aborted, "abort the check's signal at the timeout, so it can release its socket").toBe(
      true,
    );
  });

  it("applies each check's own timeoutMs, and defaultTimeoutMs to the others", async () => {
    const slowButOk = manualCheck("search", () => new Promise((r) => setTimeout(r, 400)), { timeoutMs: 5_000 });
    const tooSlow = manualCheck("postgres", () => new Promise((r) => setTimeout(r, 300)), { timeoutMs: 100 });
    const defaulted = manualCheck("redis", () => new Promise((r) => setTimeout(r, 250)));
    const { app } = started({ checks: [slowButOk.check, tooSlow.check, defaulted.check], defaultTimeoutMs: 150 });
    const res = await within(request(app).get(readiness), 8_000, "readyz did not answer");
    expect(res.body.checks, "search may take 5 s; postgres 100 ms; redis gets the default 150 ms").toEqual({
      search: "ok",
      postgres: "timeout",
      redis: "timeout",
    });
  });

  it("runs the checks concurrently, so the probe takes as long as the slowest check, not the sum", async () => {
    const aStarted = deferred();
    const bStarted = deferred();
    // Each check finishes only once the other has started: run one after the other, and the first one times out.
    const a = manualCheck(
      "a",
      async () => {
        aStarted.resolve();
        await bStarted.promise;
      },
      { timeoutMs: 3_000 },
    );
    const b = manualCheck(
      "b",
      async () => {
        bStarted.resolve();
        await aStarted.promise;
      },
      { timeoutMs: 3_000 },
    );
    const { app } = started({ checks: [a.check, b.check] });
    const res = await within(request(app).get(readiness), 8_000, "readyz did not answer");
    expect(res.body.checks, "check a waited for b, which had not started: the checks ran one after the other").toEqual({
      a: "ok",
      b: "ok",
    });
  });

  it("counts a check that rejects or throws synchronously as 'fail'", async () => {
    const rejects = manualCheck("rejects", async () => {
      throw new Error("nope");
    });
    const throws: HealthCheck = {
      name: "throws",
      check: () => {
        throw new Error("thrown before any promise existed");
      },
    };
    const { app } = started({ checks: [rejects.check, throws, manualCheck("fine").check] });
    const res = await request(app).get(readiness);
    expect(res.status).toBe(503);
    expect(res.body.checks).toEqual({ rejects: "fail", throws: "fail", fine: "ok" });
  });

  it("names the failed check without leaking its error, which goes to onCheckFailure instead", async () => {
    const error = new Error("connect ECONNREFUSED 10.1.2.3:5432 (user=app password=hunter2)");
    const failures: unknown[][] = [];
    const db = manualCheck("postgres", async () => {
      throw error;
    });
    const checks = [db.check, manualCheck("redis").check];
    const { app } = started({ checks, onCheckFailure: (...args) => failures.push(args) });
    const res = await request(app).get(readiness);
    expect(Object.keys(res.body).sort(), "the body is { status, checks }, nothing more").toEqual(["checks", "status"]);
    for (const secret of ["10.1.2.3", "hunter2", "ECONNREFUSED", "5432", "at "]) {
      expect(
        res.text,
        `a public probe body must not reveal ${JSON.stringify(secret)}: it is a map of your internals`,
      ).not.toContain(secret);
    }
    expect(
      failures,
      "the operator still needs the error: give it to onCheckFailure (and only for the checks that failed)",
    ).toEqual([["postgres", "fail", error]]);
  });

  it("answers every probe with JSON and Cache-Control: no-store", async () => {
    const { app } = started({ checks: [manualCheck("db").check] });
    for (const path of [liveness, readiness, startup]) {
      const res = await request(app).get(path);
      expect(res.headers["content-type"], `${path} is JSON`).toMatch(/^application\/json/);
      expect(res.headers["cache-control"], `${path}: a proxy that caches a probe hides the change it reports`).toBe(
        "no-store",
      );
    }
  });
});

describe("cached briefly, so probes cannot overload a dependency", () => {
  it("lets concurrent probes share one evaluation, and reuses a result until cacheTtlMs has passed", async () => {
    const clock = manualClock();
    const release = deferred();
    const db = manualCheck("postgres", () => release.promise);
    const health = createHealth({ checks: [db.check], cacheTtlMs: 1_000, clock });
    health.markStarted();
    const allArrived = deferred();
    let arrived = 0;
    const app = express();
    app.use((_req, _res, next) => {
      if (++arrived === 20) allArrived.resolve();
      next();
    });
    app.use(health.router);
    const url = await listen(app);

    const probes = Array.from({ length: 20 }, () =>
      request(url)
        .get(readiness)
        .then((r) => r.status),
    );
    await within(allArrived.promise, 5_000, "the 20 probes did not reach the server");
    release.resolve();
    expect(await Promise.all(probes)).toEqual(Array(20).fill(200));
    expect(db.calls, "20 kubelets probing at once must cost the database one check, not 20").toBe(1);

    clock.advance(999);
    expect((await request(url).get(readiness)).status).toBe(200);
    expect(db.calls, "999 ms after the check, its result is still fresh").toBe(1);
    clock.advance(1);
    expect((await request(url).get(readiness)).status).toBe(200);
    expect(db.calls, "at cacheTtlMs the result is stale: check again").toBe(2);
  });

  it("caches a failure too, and recovers once the cache expires and the dependency is back", async () => {
    const clock = manualClock();
    let up = false;
    const db = manualCheck("postgres", async () => {
      if (!up) throw new Error("down");
    });
    const { app } = started({ checks: [db.check], cacheTtlMs: 500, clock });
    for (let i = 0; i < 5; i++) expect((await request(app).get(readiness)).status).toBe(503);
    expect(db.calls, "a struggling database must not be hammered by every probe").toBe(1);
    up = true;
    clock.advance(500);
    const res = await request(app).get(readiness);
    expect(res.status, "after the TTL the pod checks again and rejoins the Service").toBe(200);
    expect(db.calls).toBe(2);
  });

  it("checks on every probe when cacheTtlMs is 0", async () => {
    const db = manualCheck("postgres");
    const { app } = started({ checks: [db.check], cacheTtlMs: 0, clock: manualClock() });
    for (let i = 0; i < 3; i++) await request(app).get(readiness);
    expect(db.calls, "cacheTtlMs 0 means no reuse at all").toBe(3);
  });
});

describe("draining", () => {
  it("answers /readyz with 503 'draining' at once after markDraining, even with a fresh success cached, and checks nothing", async () => {
    const db = manualCheck("postgres");
    const { app, health } = started({ checks: [db.check], cacheTtlMs: 60_000, clock: manualClock() });
    expect((await request(app).get(readiness)).status).toBe(200);
    health.markDraining();
    const res = await request(app).get(readiness);
    expect(
      res.status,
      "shutdown has begun: the load balancer must stop sending traffic now, not after the cache expires",
    ).toBe(503);
    expect(res.body).toEqual({ status: "draining", checks: {} });
    expect(db.calls).toBe(1);
    expect((await request(app).get(liveness)).status).toBe(200);

    const uncached = manualCheck("postgres");
    const fresh = started({ checks: [uncached.check], cacheTtlMs: 0, clock: manualClock() });
    fresh.health.markDraining();
    expect((await request(fresh.app).get(readiness)).status).toBe(503);
    expect(uncached.calls, "a draining pod answers 503 without asking its dependencies anything").toBe(0);
  });

  it("answers 'draining' when the drain begins while a readiness check is still running", async () => {
    const release = deferred();
    const slow = manualCheck("postgres", () => release.promise);
    const { app, health } = started({ checks: [slow.check], cacheTtlMs: 0, clock: manualClock() });
    const url = await listen(app);
    const answered = request(url)
      .get(readiness)
      .then((r) => r);
    await within(
      (async () => {
        while (slow.calls === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      })(),
      5_000,
      "the probe never reached its check",
    );
    health.markDraining();
    release.resolve();
    const late = await answered;
    expect(late.status, "shutdown began while the check ran: the probe must not answer 200").toBe(503);
    expect(late.body).toEqual({ status: "draining", checks: {} });
  });
});

describe("options", () => {
  it("refuses duplicate or empty check names and timeouts or TTLs that are not positive numbers (RangeError)", () => {
    const ok = manualCheck("db").check;
    expect(
      () => createHealth({ checks: [ok, manualCheck("db").check] }),
      "two checks named db: which one failed?",
    ).toThrow(RangeError);
    expect(() => createHealth({ checks: [manualCheck("").check] })).toThrow(RangeError);
    expect(
      () => createHealth({ checks: [manualCheck("db", undefined, { timeoutMs: 0 }).check] }),
      "a 0 ms timeout fails every check",
    ).toThrow(RangeError);
    expect(() => createHealth({ checks: [ok], defaultTimeoutMs: Number.NaN })).toThrow(RangeError);
    expect(() => createHealth({ checks: [ok], cacheTtlMs: -1 })).toThrow(RangeError);
    expect(
      () => createHealth({ checks: [ok], cacheTtlMs: Number.POSITIVE_INFINITY }),
      "a result cached forever never notices an outage",
    ).toThrow(RangeError);
    expect(() => createHealth({ checks: [ok], cacheTtlMs: 0 })).not.toThrow();
  });
});
