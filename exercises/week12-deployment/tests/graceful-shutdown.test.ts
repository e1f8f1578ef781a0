import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createGracefulShutdown, type Closable, type GracefulShutdownOptions } from "../src/graceful-shutdown";
import { firstRefusal, get, within } from "./support/http-client";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function deferred(): { promise: Promise<void>; resolve(): void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const timers = () => process.getActiveResourcesInfo().filter((type) => type === "Timeout").length;

/**
 * A real HTTP server in this process with a drain over it. GET /ok answers at once; GET /hold/<id>
 * answers when the test calls release(id); GET /stream/<id> sends its headers at once and ends on release(id).
 */
async function harness(overrides: Partial<GracefulShutdownOptions> = {}) {
  const events: string[] = [];
  const holds = new Map<string, { arrived: ReturnType<typeof deferred>; release: ReturnType<typeof deferred> }>();
  const hold = (id: string) => {
    let entry = holds.get(id);
    if (!entry) holds.set(id, (entry = { arrived: deferred(), release: deferred() }));
    return entry;
  };
  const server = http.createServer((req, res) => {
    const [, route, id = ""] = (req.url ?? "").split("/");
    if (route === "hold" || route === "stream") {
      const entry = hold(id);
      if (route === "stream") res.writeHead(200, { "content-type": "text/plain" }).write("first part;");
      entry.arrived.resolve();
      void entry.release.promise.then(() => {
        events.push(`answered ${id}`);
        res.end("done");
      });
      return;
    }
    res.end("ok");
  });
  server.keepAliveTimeout = 65_000; // as behind a cloud load balancer: server.close() alone would wait this long
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  const agent = new http.Agent({ keepAlive: true });
  cleanups.push(async () => {
    for (const entry of holds.values()) entry.release.resolve();
    agent.destroy();
    server.closeAllConnections();
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const exits: number[] = [];
  const exited = deferred();
  const resource = (name: string, fail = false): Closable => ({
    name,
    close: async () => {
      await new Promise((resolve) => setImmediate(resolve));
      events.push(`closed ${name}`);
      if (fail) throw new Error(`${name} refused to close`);
    },
  });
  const lines: string[] = [];
  const shutdown = createGracefulShutdown({
    server,
    markNotReady: () => events.push("not ready"),
    propagationDelayMs: 0,
    timeoutMs: 10_000,
    resources: [resource("db"), resource("cache")],
    exit: (code) => {
      events.push(`exit ${code}`);
      exits.push(code);
      exited.resolve();
    },
    log: (line) => lines.push(line),
    ...overrides,
  });
  return { server, port, agent, events, exits, exited: exited.promise, lines, shutdown, hold, resource };
}

describe("the drain, in order", () => {
  it("turns readiness off first, keeps serving through the propagation delay with Connection: close, then refuses", async () => {
    const h = await harness({ propagationDelayMs: 2_000 });
    const t0 = performance.now();
    const drained = h.shutdown.begin("SIGTERM");
    expect(h.events[0], "readiness goes to 503 before anything else, so the load balancers start to notice").toBe(
      "not ready",
    );
    expect(h.lines, "the required log line").toContain("draining");
    // A keep-alive client: a client that asks for close would get it whatever the server does.
    const during = await get(h.port, "/ok", h.agent);
    expect(during.status, "during the propagation delay, load balancers still send requests: serve them").toBe(200);
    expect(during.headers.connection, "tell keep-alive clients to reconnect, to a pod that is not leaving").toBe(
      "close",
    );
    const refusedAt = await firstRefusal(
      h.port,
      8_000,
      "the server kept accepting connections long after the propagation delay",
    );
    expect(
      refusedAt - t0,
      "new connections are refused only after propagationDelayMs (2000 ms)",
    ).toBeGreaterThanOrEqual(1_950);
    await within(drained, 8_000, "begin() did not resolve after the drain");
    expect(h.exits, "nothing was in flight: a clean drain exits 0").toEqual([0]);
  });

  it("lets an in-flight request finish with 200, then closes the resources one by one, in order, and exits 0", async () => {
    const h = await harness();
    const held = h.hold("a");
    const reply = get(h.port, "/hold/a", h.agent);
    await within(held.arrived.promise, 5_000, "the request did not reach the server");
    const drained = h.shutdown.begin("SIGTERM");
    await firstRefusal(h.port, 8_000, "the server kept accepting after the drain began (delay 0)");
    expect(h.events, "no resource may close while a request can still use it").toEqual(["not ready"]);
    expect(h.exits).toEqual([]);
    held.release.resolve();
    const answered = await within(reply, 5_000, "the in-flight request never got its answer");
    expect(answered.status, "a request accepted before SIGTERM is answered, not dropped").toBe(200);
    expect(
      answered.headers.connection,
      "a response sent during the drain says Connection: close; otherwise the client may reuse a socket the server is closing",
    ).toBe("close");
    await within(
      drained,
      8_000,
      "the drain did not finish after the last request; did server.close() wait for a keep-alive socket?",
    );
    expect(h.events, "answer, then db, then cache (in the order given), then exit 0").toEqual([
      "not ready",
      "answered a",
      "closed db",
      "closed cache",
      "exit 0",
    ]);
  });

  it("closes idle keep-alive sockets at once instead of waiting for their keepAliveTimeout", async () => {
    const h = await harness({ timeoutMs: 8_000 });
    const idle = await get(h.port, "/ok", h.agent);
    expect(idle.headers.connection, "the client keeps this socket open for reuse").toBe("keep-alive");
    for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(
      idle.socket.destroyed,
      "before the drain, keep-alive sockets stay open: closing them early defeats keep-alive",
    ).toBe(false);
    const closed = once(idle.socket, "close");
    const drained = h.shutdown.begin("SIGTERM");
    await within(closed, 5_000, "an idle keep-alive socket stayed open: server.close() will wait 65 s for it");
    await within(drained, 8_000, "the drain did not finish");
    expect(h.exits, "the idle socket was the last thing open").toEqual([0]);
  });

  it("closes the socket of a response whose headers went out before the drain, once that response ends", async () => {
    const h = await harness({ timeoutMs: 8_000 });
    const streaming = h.hold("s");
    const reply = get(h.port, "/stream/s", h.agent);
    await within(streaming.arrived.promise, 5_000, "the request did not reach the server");
    const drained = h.shutdown.begin("SIGTERM");
    await firstRefusal(h.port, 8_000, "the server kept accepting");
    streaming.release.resolve();
    const answered = await within(reply, 5_000, "the streaming response never ended");
    expect(answered.status).toBe(200);
    expect(answered.headers.connection, "its headers went out before the drain: it could not say close").toBe(
      "keep-alive",
    );
    await within(drained, 9_000, "the drain never finished: after its response this socket is idle, close it then");
    expect(h.exits, "exit 0, before the deadline: the socket was closed when its response ended").toEqual([0]);
  });
});

describe("when it must not wait", () => {
  it("exits 1 at once on a second begin(), without waiting for the request in flight", async () => {
    const h = await harness({ propagationDelayMs: 5_000, timeoutMs: 30_000 });
    const held = h.hold("slow");
    void get(h.port, "/hold/slow", h.agent).catch(() => {});
    await within(held.arrived.promise, 5_000, "the request did not reach the server");
    const drained = h.shutdown.begin("SIGTERM");
    void h.shutdown.begin("SIGTERM");
    await within(h.exited, 2_000, "a second signal means 'stop now': exit(1) at once");
    expect(h.exits, "a forced exit is not a clean one: non-zero").toHaveLength(1);
    expect(h.exits[0], "a forced exit is not a clean one: non-zero").not.toBe(0);
    await within(drained, 2_000, "the first begin() must resolve too once the process is exiting");
  });

  it("exits 1 at the deadline, counted from the first begin() and not from the end of the delay", async () => {
    const h = await harness({ propagationDelayMs: 2_000, timeoutMs: 2_600 });
    const held = h.hold("stuck");
    void get(h.port, "/hold/stuck", h.agent).catch(() => {});
    await within(held.arrived.promise, 5_000, "the request did not reach the server");
    const t0 = performance.now();
    const drained = h.shutdown.begin("SIGTERM");
    const refusedAt = await firstRefusal(h.port, 8_000, "the server kept accepting after its delay");
    await within(drained, 10_000, "a request that never ends must not hold the process past its deadline");
    const exitedAt = performance.now();
    expect(exitedAt - t0, "the deadline is timeoutMs (2600 ms) after begin(), not earlier").toBeGreaterThanOrEqual(
      2_550,
    );
    // Stopping to accept took the 2000 ms delay; the deadline comes 600 ms later, not 2600 ms later.
    expect(
      exitedAt - t0,
      "the deadline is counted from begin(): the delay is part of it, not added to it",
    ).toBeLessThan(1.6 * (refusedAt - t0));
    expect(h.exits, "the drain did not finish: the exit code says so").toHaveLength(1);
    expect(h.exits[0]).not.toBe(0);
  });

  it("still closes the other resources when one fails to close, and then exits 1", async () => {
    const h = await harness();
    const shutdown = createGracefulShutdown({
      server: h.server,
      markNotReady: () => {},
      propagationDelayMs: 0,
      timeoutMs: 5_000,
      resources: [h.resource("db", true), h.resource("cache")],
      exit: (code) => h.exits.push(code),
      log: () => {},
    });
    await within(shutdown.begin("SIGTERM"), 8_000, "the drain did not finish");
    expect(h.events, "a failing db pool must not leave the cache open").toEqual(["closed db", "closed cache"]);
    expect(h.exits, "a resource that could not be closed is not a clean shutdown").toEqual([1]);
  });

  it("calls exit exactly once, and leaves no timer running after a clean drain", async () => {
    const before = timers();
    const h = await harness({ propagationDelayMs: 50, timeoutMs: 5_000 });
    await within(h.shutdown.begin("SIGTERM"), 8_000, "the drain did not finish");
    expect(h.exits).toEqual([0]);
    expect(
      timers(),
      "the deadline timer outlived the drain: in a test it fires exit(1) later, in a process it keeps it alive",
    ).toBeLessThanOrEqual(before);
  });
});

describe("options", () => {
  it("refuses a negative or non-finite delay, and a deadline not longer than the delay (RangeError)", async () => {
    const h = await harness();
    const make = (propagationDelayMs: number, timeoutMs: number) => () =>
      createGracefulShutdown({
        server: h.server,
        markNotReady() {},
        propagationDelayMs,
        timeoutMs,
        resources: [],
        exit() {},
        log() {},
      });
    expect(make(-1, 1_000)).toThrow(RangeError);
    expect(make(Number.NaN, 1_000)).toThrow(RangeError);
    expect(make(5_000, 5_000), "a deadline that ends with the delay cuts off every drain").toThrow(RangeError);
    expect(make(5_000, 1_000)).toThrow(RangeError);
    expect(make(0, Number.POSITIVE_INFINITY), "a drain without a deadline ends in SIGKILL").toThrow(RangeError);
    expect(make(0, 1)).not.toThrow();
  });
});
