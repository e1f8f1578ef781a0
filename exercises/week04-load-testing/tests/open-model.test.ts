import { manualClock } from "#fixtures/clock";
import { blackholeServer, closedPort } from "#fixtures/net";
import type http from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { type OpenModelResult, runOpenModel } from "../src/open-model";
import { mentions } from "#fixtures/messages";
import { closeAllServers, ok, startServer } from "./support/servers";

afterEach(closeAllServers);

/** A clock and a sleep that moves it: the schedule runs in no real time, exactly on time. */
function manualSchedule(oversleep?: { afterMs: number; byMs: number }) {
  const clock = manualClock();
  const start = clock.now();
  let overslept = false;
  const sleep = async (ms: number) => {
    clock.advance(ms);
    if (oversleep && !overslept && clock.now() - start >= oversleep.afterMs) {
      overslept = true;
      clock.advance(oversleep.byMs); // the timer fired this much too late
    }
  };
  return { clock: clock.now, sleep };
}

function expectValid(result: OpenModelResult): asserts result is Extract<OpenModelResult, { valid: true }> {
  expect(result.valid, `the run was marked invalid: ${"reason" in result ? result.reason : ""}`).toBe(true);
}

const ms = (micros: number) => micros / 1000;

describe("options", () => {
  it("refuses a zero rate, a negative duration, zero connections or a negative lag allowance, naming the option", async () => {
    const server = await startServer(ok);
    const bad: Array<[Partial<Parameters<typeof runOpenModel>[0]>, string]> = [
      [{ ratePerSecond: 0 }, "ratePerSecond"],
      [{ ratePerSecond: Number.POSITIVE_INFINITY }, "ratePerSecond"],
      [{ durationMs: -5 }, "durationMs"],
      [{ connections: 0 }, "connections"],
      [{ connections: 2.5 }, "connections"],
      [{ maxScheduleLagMs: -1 }, "maxScheduleLagMs"],
      [{ timeoutMs: 0 }, "timeoutMs"],
    ];
    for (const [options, name] of bad) {
      const run = () => runOpenModel({ url: server.url, ratePerSecond: 10, durationMs: 100, ...options });
      await expect(run(), JSON.stringify(options)).rejects.toThrow(RangeError);
      await expect(run(), `the message names the option at fault (${name})`).rejects.toThrow(mentions(name));
    }
    expect(server.requests).toBe(0);
  });
});

describe("a constant arrival rate", () => {
  it("sends rate x duration arrivals and answers for each one", async () => {
    const server = await startServer(ok);
    const result = await runOpenModel({ url: server.url, ratePerSecond: 200, durationMs: 100, ...manualSchedule() });
    expectValid(result);
    expect(result.scheduled, "200 per second for 100 ms").toBe(20);
    expect([result.sent, result.completed, server.requests]).toEqual([20, 20, 20]);
    expect(result.statusCodes).toEqual({ "200": 20 });
    expect(result.latency.totalCount).toBe(20);
    expect(result.serviceTime.totalCount).toBe(20);
    expect(
      result.elapsedMs,
      "the last arrival was due 95 ms in; the clock did not move while it was answered",
    ).toBeGreaterThanOrEqual(95);
    expect(result.elapsedMs).toBeLessThanOrEqual(100);
  });

  it("counts refused connections as errors and unanswered requests as timeouts", async () => {
    const port = await closedPort();
    const refused = await runOpenModel({
      url: `http://127.0.0.1:${port}/`,
      ratePerSecond: 100,
      durationMs: 100,
      ...manualSchedule(),
    });
    expect(refused.errors).toBe(10);
    expect(refused.errorsByCode).toEqual({ ECONNREFUSED: 10 });
    expect([refused.completed, refused.timeouts]).toEqual([0, 0]);
    const blackhole = await blackholeServer();
    try {
      const silent = await runOpenModel({
        url: blackhole.url("http"),
        ratePerSecond: 100,
        durationMs: 30,
        timeoutMs: 80,
        ...manualSchedule(),
      });
      expect(silent.timeouts, "no answer within 80 ms").toBe(3);
      expect([silent.errors, silent.completed]).toEqual([0, 0]);
    } finally {
      await blackhole.close();
    }
  });

  it("knows that a response to HEAD has no body", async () => {
    const server = await startServer((_request, response) => {
      response.setHeader("content-length", "1000");
      response.end();
    });
    const result = await runOpenModel({
      url: server.url,
      method: "HEAD",
      ratePerSecond: 100,
      durationMs: 50,
      connections: 1,
      timeoutMs: 2_000,
      ...manualSchedule(),
    });
    expect(result.timeouts, "waiting for 1000 bytes that never come is a timeout").toBe(0);
    expect(result.completed).toBe(5);
  });

  it("spreads arrivals over the schedule instead of sending them as fast as it can", async () => {
    const arrivals: number[] = [];
    const server = await startServer((_request, response) => {
      arrivals.push(performance.now());
      response.end("ok");
    });
    const result = await runOpenModel({
      url: server.url,
      ratePerSecond: 100,
      durationMs: 200,
      maxScheduleLagMs: 1_000,
    });
    expectValid(result);
    expect(arrivals).toHaveLength(20);
    expect(
      arrivals.at(-1)! - arrivals[0]!,
      "20 arrivals at 100/s are due over 190 ms; a burst reaches the server in a few ms",
    ).toBeGreaterThanOrEqual(150);
    expect(
      server.connectionsOpened,
      "answers come back between arrivals: an idle connection is reused, not replaced",
    ).toBeLessThan(20);
  });

  it("does not wait for a response before sending the next arrival", async () => {
    const held: http.ServerResponse[] = [];
    let peak = 0;
    let fallback: NodeJS.Timeout | undefined;
    const releaseAll = () => {
      clearTimeout(fallback);
      for (const r of held.splice(0)) r.end("ok");
    };
    const server = await startServer((_request, response) => {
      held.push(response);
      peak = Math.max(peak, held.length);
      // Answer everything once all 10 arrivals are in, or after a second: a closed loop never gets there.
      if (held.length === 10) releaseAll();
      else if (held.length === 1) fallback = setTimeout(releaseAll, 1_000);
    });
    const result = await runOpenModel({
      url: server.url,
      ratePerSecond: 100,
      durationMs: 100,
      connections: 20,
      maxScheduleLagMs: 1_000,
    });
    expect(result.completed).toBe(10);
    expect(
      peak,
      "arrivals come on schedule whether or not earlier requests were answered: all 10 were waiting at once",
    ).toBe(10);
  });

  it("keeps at most `connections` requests in flight and charges queued arrivals for their wait", async () => {
    let inFlight = 0;
    let peak = 0;
    const server = await startServer((_request, response) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      setTimeout(() => {
        inFlight--;
        response.end("ok");
      }, 100);
    });
    const result = await runOpenModel({
      url: server.url,
      ratePerSecond: 100,
      durationMs: 100,
      connections: 2,
      maxScheduleLagMs: 1_000,
    });
    expectValid(result);
    expect(result.completed).toBe(10);
    expect(peak, "two connections, one request each").toBeLessThanOrEqual(2);
    // The last arrival waits for four rounds of 100 ms before it is even sent.
    expect(
      result.latency.max,
      "latency runs from the intended start, so the wait for a connection counts",
    ).toBeGreaterThan(2.5 * result.serviceTime.max);
  });
});

describe("coordinated omission: a server that stalls once for a second", () => {
  it("shows the stall in the corrected p99 while the naive service-time p99 hides it", async () => {
    const stallMs = 1_000;
    const server = await startServer((_request, response, n) => {
      if (n === 50) setTimeout(() => response.end("finally"), stallMs);
      else response.end("ok");
    });
    // One connection, like a closed-model tool with one user: while it waits, arrivals queue.
    const result = await runOpenModel({
      url: server.url,
      ratePerSecond: 100,
      durationMs: 2_000,
      connections: 1,
      maxScheduleLagMs: 800,
    });
    expectValid(result);
    expect(result.completed).toBe(200);

    const corrected = ms(result.latency.valueAtPercentile(99));
    const naive = ms(result.serviceTime.valueAtPercentile(99));
    expect(result.serviceTime.max, "the naive histogram did see the stall, once").toBeGreaterThanOrEqual(
      0.9 * stallMs * 1000,
    );
    expect(
      corrected,
      `about 100 arrivals were due during the stall: the corrected p99 (${corrected} ms) must show it`,
    ).toBeGreaterThanOrEqual(stallMs / 2);
    expect(
      naive,
      `one slow sample in 200 cannot move the naive p99 (${naive} ms): that is how a closed-model tool hides a stall`,
    ).toBeLessThan(corrected / 4);
  });
});

describe("a generator that falls behind its schedule", () => {
  it("reports no lag and a valid run when every arrival is released on time, even with no allowance at all", async () => {
    const server = await startServer(ok);
    const result = await runOpenModel({
      url: server.url,
      ratePerSecond: 100,
      durationMs: 200,
      maxScheduleLagMs: 0,
      ...manualSchedule(),
    });
    expectValid(result);
    expect(result.maxScheduleLagMs).toBe(0);
  });

  it("marks the run invalid, withholds its latencies and stops sending when a timer fires 300 ms late", async () => {
    const server = await startServer(ok);
    const result = await runOpenModel({
      url: server.url,
      ratePerSecond: 100,
      durationMs: 200,
      maxScheduleLagMs: 100,
      ...manualSchedule({ afterMs: 95, byMs: 300 }),
    });
    expect(result.valid, "300 ms behind schedule: the latencies would measure the generator").toBe(false);
    expect(result.maxScheduleLagMs).toBeGreaterThanOrEqual(250);
    expect(result.maxScheduleLagMs).toBeLessThanOrEqual(310);
    expect("latency" in result, "an invalid run carries no latency histogram to misquote").toBe(false);
    expect(
      result.valid === false ? result.reason : "",
      "the result says why, with the lag it saw in milliseconds",
    ).toMatch(/\b(2[5-9]\d|30\d)(\.\d+)?\s*(ms|milliseconds?)\b/i);
    expect(result.sent, "there is no point in sending the rest of the schedule").toBeLessThan(result.scheduled);
    expect(server.requests).toBe(result.sent);
  });

  it("accepts a late release up to maxScheduleLagMs and reports the largest lag, not the last", async () => {
    const server = await startServer(ok);
    const result = await runOpenModel({
      url: server.url,
      ratePerSecond: 100,
      durationMs: 1_000,
      maxScheduleLagMs: 300,
      ...manualSchedule({ afterMs: 95, byMs: 300 }),
    });
    expectValid(result);
    expect(result.maxScheduleLagMs, "the one late wake-up; every release after it was on time").toBeGreaterThanOrEqual(
      250,
    );
    expect(result.maxScheduleLagMs).toBeLessThanOrEqual(300);
    expect(result.sent, "arrivals that came due during the late wake-up are released at once, not skipped").toBe(100);
    expect(
      result.elapsedMs,
      "and then the schedule is back on time, its last arrival due at 990 ms: releasing one arrival per wake-up carries the 300 ms delay to the end of the run",
    ).toBeLessThan(1_100);
  });

  it("never sends more than the schedule, even when a late wake-up lands past its end", async () => {
    const server = await startServer(ok);
    const result = await runOpenModel({
      url: server.url,
      ratePerSecond: 100,
      durationMs: 200,
      maxScheduleLagMs: 400,
      ...manualSchedule({ afterMs: 95, byMs: 300 }),
    });
    expectValid(result);
    expect(result.sent, "the clock jumped to 400 ms; the schedule ends with the arrival due at 190 ms").toBe(20);
    expect(server.requests).toBe(20);
  });

  it("drops the arrivals still waiting for a connection when the run turns invalid", async () => {
    const server = await startServer(ok);
    const result = await runOpenModel({
      url: server.url,
      ratePerSecond: 100,
      durationMs: 200,
      connections: 1,
      maxScheduleLagMs: 100,
      ...manualSchedule({ afterMs: 95, byMs: 300 }),
    });
    expect(result.valid).toBe(false);
    // The schedule ran in no real time: the one connection was still busy with the first arrival.
    expect(result.sent, "the queued arrivals would only add the generator's own delay").toBe(1);
    expect(server.requests).toBe(1);
  });

  it("notices a blocked event loop: the lag is at least the block's measured length", async () => {
    let blockedMs = 0;
    const server = await startServer((_request, response, n) => {
      if (n === 5) {
        // The server shares the generator's process: 300 ms of synchronous work starves both.
        const start = performance.now();
        while (performance.now() - start < 300) {
          /* busy */
        }
        blockedMs = performance.now() - start;
      }
      response.end("ok");
    });
    const result = await runOpenModel({ url: server.url, ratePerSecond: 100, durationMs: 400, maxScheduleLagMs: 100 });
    expect(blockedMs).toBeGreaterThanOrEqual(300);
    expect(result.valid, "arrivals due during the block were released late").toBe(false);
    expect(
      result.maxScheduleLagMs,
      "an arrival came due at most 10 ms into the block and waited for its end",
    ).toBeGreaterThanOrEqual(blockedMs - 20);
  });
});

describe("a clean stop", () => {
  it("closes every connection before it resolves, valid run or not", async () => {
    const server = await startServer(ok);
    await runOpenModel({ url: server.url, ratePerSecond: 200, durationMs: 100, ...manualSchedule() });
    await runOpenModel({
      url: server.url,
      ratePerSecond: 100,
      durationMs: 200,
      maxScheduleLagMs: 100,
      ...manualSchedule({ afterMs: 95, byMs: 300 }),
    });
    expect(server.connectionsOpened).toBeGreaterThan(0);
    await expect(
      server.allConnectionsClosed(2_000),
      "sockets left open leak file descriptors run after run",
    ).resolves.toBeUndefined();
  });
});
