import { manualClock } from "#fixtures/clock";
import { blackholeServer, closedPort } from "#fixtures/net";
import { setImmediate as nextTurn, setTimeout as delay } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { runLoad } from "../src/load-generator";
import { mentions } from "#fixtures/messages";
import { closeAllServers, ok, startServer } from "./support/servers";

afterEach(closeAllServers);

function count(kind: string): number {
  return process.getActiveResourcesInfo().filter((name) => name === kind).length;
}

describe("options", () => {
  it("refuses a run without a bound, with no connections, or with a zero budget, naming the option at fault", async () => {
    const server = await startServer(ok);
    await expect(
      runLoad({ url: server.url, connections: 2 }),
      "neither durationMs nor requests: the run would never end",
    ).rejects.toThrow(RangeError);
    const unbounded = await runLoad({ url: server.url, connections: 2 }).catch((error: unknown) => error);
    expect(String(unbounded), "the message names the bound that is missing: durationMs or requests").toMatch(
      new RegExp(`${mentions("durationMs").source}|${mentions("requests").source}`, "i"),
    );
    const bad: Array<[Partial<Parameters<typeof runLoad>[0]>, string]> = [
      [{ connections: 0, requests: 5 }, "connections"],
      [{ connections: 1.5, requests: 5 }, "connections"],
      [{ connections: 2, requests: 0 }, "requests"],
      [{ connections: 2, requests: 2.5 }, "requests"],
      [{ connections: 2, durationMs: -1 }, "durationMs"],
      [{ connections: 2, durationMs: 0 }, "durationMs"],
      [{ connections: 2, durationMs: Number.POSITIVE_INFINITY }, "durationMs"],
      [{ connections: 2, requests: 5, timeoutMs: 0 }, "timeoutMs"],
      [{ connections: 2, requests: 5, timeoutMs: Number.NaN }, "timeoutMs"],
    ];
    for (const [options, name] of bad) {
      await expect(runLoad({ url: server.url, connections: 1, ...options }), JSON.stringify(options)).rejects.toThrow(
        RangeError,
      );
      await expect(
        runLoad({ url: server.url, connections: 1, ...options }),
        `the message names the option at fault (${name})`,
      ).rejects.toThrow(mentions(name));
    }
    expect(server.requests, "a refused configuration sends nothing").toBe(0);
  });

  it("runs a budget of a single request", async () => {
    const server = await startServer(ok);
    const result = await runLoad({ url: server.url, connections: 1, requests: 1 });
    expect([result.sent, result.completed, server.requests]).toEqual([1, 1, 1]);
  });
});

describe("a closed loop on keep-alive connections", () => {
  it("sends exactly the requested number of requests in total, over all connections", async () => {
    const server = await startServer(ok);
    const result = await runLoad({ url: server.url, connections: 3, requests: 100 });
    expect(server.requests, "100 over 3 connections: a per-connection share of 34 would overshoot to 102").toBe(100);
    expect(result.sent).toBe(100);
    expect(result.completed).toBe(100);
    expect(result.statusCodes).toEqual({ "200": 100 });
    expect(result.latency.totalCount, "one latency per response").toBe(100);
  });

  it("opens one keep-alive connection per virtual user and reuses it", async () => {
    const server = await startServer(ok);
    await runLoad({ url: server.url, connections: 4, requests: 200 });
    expect(
      server.connectionsOpened,
      "200 requests over 4 users: a new TCP handshake per request measures connection setup, not the server",
    ).toBe(4);
  });

  it("keeps at most one request in flight per connection, and all connections busy", async () => {
    let inFlight = 0;
    let peak = 0;
    const server = await startServer((_request, response) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      setTimeout(() => {
        inFlight--;
        response.end("ok");
      }, 15);
    });
    await runLoad({ url: server.url, connections: 4, requests: 40 });
    expect(
      peak,
      "a closed model sends a user's next request only after its response: never more than 4 at once",
    ).toBeLessThanOrEqual(4);
    expect(peak, "and the 4 users run concurrently, not one after another").toBe(4);
  });

  it("records each response's latency in microseconds of the injected clock", async () => {
    const clock = manualClock();
    const server = await startServer((_request, response) => {
      clock.advance(7); // the server "takes" 7 ms of the generator's clock
      response.end("ok");
    });
    const result = await runLoad({ url: server.url, connections: 1, requests: 12, clock: clock.now });
    expect(result.latency.totalCount).toBe(12);
    expect(
      result.latency.min,
      "7 ms is 7000 us: latency is recorded in microseconds, from the clock the options give",
    ).toBe(7_000);
    expect(
      result.latency.max,
      "every request took 7 ms: measure each from its own start, not from the start of the run",
    ).toBe(7_000);
    expect(result.elapsedMs).toBe(84);
    expect(result.requestsPerSecond, "12 responses in 84 ms of the clock").toBeCloseTo(12 / 0.084, 6);
  });

  it("stops starting requests once durationMs has passed on its clock", async () => {
    const clock = manualClock();
    const server = await startServer((_request, response) => {
      clock.advance(10);
      response.end("ok");
    });
    const result = await runLoad({ url: server.url, connections: 1, durationMs: 200, clock: clock.now });
    expect(result.sent, "one user, 10 ms per request, 200 ms: requests start at 0, 10, ... 190").toBe(20);
    expect(server.requests).toBe(20);
    expect(result.requestsPerSecond).toBeCloseTo(100, 6);
  });

  it("stops at whichever bound comes first", async () => {
    const clock = manualClock();
    const server = await startServer((_request, response) => {
      clock.advance(10);
      response.end("ok");
    });
    const byCount = await runLoad({
      url: server.url,
      connections: 1,
      durationMs: 10_000,
      requests: 5,
      clock: clock.now,
    });
    expect(byCount.sent, "the request budget ran out first").toBe(5);
    const byTime = await runLoad({
      url: server.url,
      connections: 1,
      durationMs: 50,
      requests: 1_000,
      clock: clock.now,
    });
    expect(byTime.sent, "the duration ran out first").toBe(5);
  });

  it("measures until the last byte of the body, not until the headers", async () => {
    const server = await startServer((_request, response) => {
      response.writeHead(200, { "content-type": "text/plain" });
      response.write("first half, ");
      setTimeout(() => response.end("second half after 40 ms"), 40);
    });
    const result = await runLoad({ url: server.url, connections: 2, requests: 4 });
    expect(result.completed).toBe(4);
    expect(
      result.latency.min,
      "the body ends 40 ms after the headers: a latency below that stopped at the headers",
    ).toBeGreaterThanOrEqual(35_000);
  });

  it("knows that a response to HEAD has no body, whatever its Content-Length says", async () => {
    const server = await startServer((_request, response) => {
      response.setHeader("content-length", "1000");
      response.end();
    });
    const result = await runLoad({ url: server.url, method: "HEAD", connections: 1, requests: 5, timeoutMs: 2_000 });
    expect(result.timeouts, "waiting for 1000 bytes that never come is a timeout").toBe(0);
    expect(result.completed).toBe(5);
    expect(server.connectionsOpened, "the connection stays in step and is kept").toBe(1);
  });

  it("reports 0 requests per second, not Infinity, when no time passed on its clock", async () => {
    const clock = manualClock();
    const server = await startServer(ok);
    const result = await runLoad({ url: server.url, connections: 1, requests: 3, clock: clock.now });
    expect(result.elapsedMs).toBe(0);
    expect(result.requestsPerSecond).toBe(0);
  });

  it("reconnects when the server closes the connection after a response", async () => {
    const server = await startServer((_request, response) => {
      response.setHeader("connection", "close");
      response.end("bye");
    });
    const result = await runLoad({ url: server.url, connections: 2, requests: 10 });
    expect(result.completed, "Connection: close ends the connection, not the run").toBe(10);
    expect(result.errors).toBe(0);
    expect(server.connectionsOpened).toBe(10);
  });
});

describe("status codes, errors and timeouts, counted apart", () => {
  it("counts responses per status code, and an error status is still a response with a latency", async () => {
    const server = await startServer((_request, response, n) => {
      response.statusCode = n % 5 === 0 ? 503 : 200;
      response.end();
    });
    const result = await runLoad({ url: server.url, connections: 2, requests: 100 });
    expect(result.statusCodes).toEqual({ "200": 80, "503": 20 });
    expect(result.completed).toBe(100);
    expect(result.errors, "a 503 is an answer, not a transport error").toBe(0);
    expect(
      result.latency.totalCount,
      "a 503 took time too: leaving error responses out of the latency hides slow failures",
    ).toBe(100);
  });

  it("counts refused connections as errors under their code, with no latency", async () => {
    const port = await closedPort();
    const result = await runLoad({ url: `http://127.0.0.1:${port}/`, connections: 2, requests: 6 });
    expect(result.errors).toBe(6);
    expect(result.errorsByCode).toEqual({ ECONNREFUSED: 6 });
    expect(result.completed).toBe(0);
    expect(result.timeouts).toBe(0);
    expect(result.latency.totalCount, "a request that got no response has no latency to record").toBe(0);
  });

  it("counts an unanswered request as a timeout, not an error, and goes on with a new connection", async () => {
    const blackhole = await blackholeServer();
    try {
      const result = await runLoad({ url: blackhole.url("http"), connections: 1, requests: 3, timeoutMs: 80 });
      expect(result.timeouts, "three requests, none answered within 80 ms").toBe(3);
      expect(result.errors, "a timeout is its own category: 'slow' and 'broken' need different fixes").toBe(0);
      expect(result.completed).toBe(0);
    } finally {
      await blackhole.close();
    }
  });

  it("times out only the stuck request while the others complete", async () => {
    const server = await startServer((_request, response, n) => {
      if (n === 3) return; // never answered
      response.end("ok");
    });
    const result = await runLoad({ url: server.url, connections: 2, requests: 12, timeoutMs: 150 });
    expect(result.timeouts, "the third request got no answer within 150 ms: a timeout, counted apart from errors").toBe(
      1,
    );
    expect(result.completed).toBe(11);
    expect(result.errors).toBe(0);
  });

  it("counts a connection the server resets mid-request as an error", async () => {
    const server = await startServer((request, response, n) => {
      if (n === 4) {
        request.socket.destroy();
        return;
      }
      response.end("ok");
    });
    const result = await runLoad({ url: server.url, connections: 1, requests: 10 });
    expect(result.errors, "the fourth request died with its connection").toBe(1);
    expect(
      Object.values(result.errorsByCode).reduce((a, b) => a + b, 0),
      "every error is counted under some code",
    ).toBe(1);
    expect(result.completed, "the generator reconnects and finishes the run").toBe(9);
  });
});

describe("a clean stop", () => {
  it("closes every connection before it resolves", async () => {
    const server = await startServer(ok);
    await runLoad({ url: server.url, connections: 5, requests: 50 });
    await expect(
      server.allConnectionsClosed(2_000),
      "sockets left open leak file descriptors run after run",
    ).resolves.toBeUndefined();
  });

  it("leaves no socket or timer behind to keep the process alive", async () => {
    const server = await startServer((_request, response, n) => {
      if (n === 2) setTimeout(() => response.end("late"), 30);
      else response.end("ok");
    });
    const socketsBefore = count("TCPSocketWrap");
    const timersBefore = count("Timeout");
    await runLoad({ url: server.url, connections: 3, requests: 30, timeoutMs: 60_000 });
    await server.allConnectionsClosed(2_000);
    await nextTurn();
    await delay(0);
    expect(count("TCPSocketWrap"), "every client socket is destroyed").toBe(socketsBefore);
    expect(
      count("Timeout"),
      "a 60 s timeout timer left armed would hold the process open for a minute",
    ).toBeLessThanOrEqual(timersBefore);
  });
});
