import { EventEmitter, once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import express from "express";
import { afterEach, describe, expect, it } from "vitest";
import { BoundedSink, type LogDestination } from "../src/log-sink";
import { createLogger, withLogContext } from "../src/logger";

/**
 * A destination the test drives: "ok" accepts and confirms every write; "stalled" answers
 * false (full) and confirms nothing until resume(), which confirms the pending writes and
 * emits 'drain'. `blockMs` makes each write take that long, synchronously, as a blocking write
 * to a full pipe does.
 */
class TestDestination extends EventEmitter implements LogDestination {
  readonly chunks: string[] = [];
  mode: "ok" | "stalled" = "ok";
  blockMs = 0;
  writesWhileStalled = 0;
  readonly #pending: Array<(error?: Error | null) => void> = [];

  write(chunk: string, callback: (error?: Error | null) => void): boolean {
    const until = performance.now() + this.blockMs;
    while (performance.now() < until) {
      // busy: this write holds the event loop, like writeSync on a pipe nobody reads
    }
    this.chunks.push(chunk);
    if (this.mode === "ok") {
      queueMicrotask(() => callback());
      return true;
    }
    this.writesWhileStalled++;
    this.#pending.push(callback);
    return false;
  }

  resume(): void {
    this.mode = "ok";
    this.blockMs = 0;
    for (const callback of this.#pending.splice(0)) callback();
    this.emit("drain");
  }

  /** Every line received, in order. */
  lines(): string[] {
    return this.chunks.join("").split("\n").filter(Boolean);
  }
}

const line = (i: number, width = 100) => `${`line ${i} `.padEnd(width - 1, ".")}\n`;

describe("a bounded, non-blocking sink", () => {
  it("hands every line straight to a destination that keeps up, in order", async () => {
    const destination = new TestDestination();
    const sink = new BoundedSink(destination);
    for (let i = 0; i < 100; i++) sink.write(line(i));
    await sink.flush();
    expect(destination.lines()).toEqual(Array.from({ length: 100 }, (_, i) => line(i).trimEnd()));
    expect(sink.stats()).toEqual({ written: 100, buffered: 0, bufferedBytes: 0, dropped: 0 });
  });

  it("stops writing to a full destination, buffers within its bound, and counts what it drops", () => {
    const destination = new TestDestination();
    destination.mode = "stalled";
    const sink = new BoundedSink(destination, { maxBufferedBytes: 1000 });
    for (let i = 0; i < 100; i++) sink.write(line(i));
    const stats = sink.stats();
    expect(
      destination.writesWhileStalled,
      "write() returned false: keep writing and the stream buffers without limit",
    ).toBe(1);
    expect(stats.bufferedBytes, "the buffer holds at most maxBufferedBytes").toBeLessThanOrEqual(1000);
    expect(stats.bufferedBytes).toBe(stats.buffered * 100);
    expect(stats.dropped, "what does not fit is dropped, and counted").toBeGreaterThanOrEqual(100 - 1 - 10);
    expect(stats.written + stats.buffered + stats.dropped, "every line is written, buffered or dropped").toBe(100);
  });

  it("catches up in order once the destination drains, then writes straight through again", async () => {
    const destination = new TestDestination();
    destination.mode = "stalled";
    const sink = new BoundedSink(destination, { maxBufferedBytes: 1000 });
    for (let i = 0; i < 50; i++) sink.write(line(i));
    const { dropped } = sink.stats();
    destination.resume();
    await sink.flush();
    sink.write(line(50));
    await sink.flush();
    const received = destination.lines().map((l) => Number(l.split(" ")[1]));
    expect(received, "nothing duplicated, nothing reordered").toEqual([...received].sort((a, b) => a - b));
    expect(received[0], "the line handed over before the stall is not lost").toBe(0);
    expect(received.at(-1)).toBe(50);
    expect(received.length + dropped).toBe(51);
    expect(sink.stats()).toMatchObject({ buffered: 0, bufferedBytes: 0, dropped });
  });

  it("respects a real Writable's backpressure", async () => {
    const held: Array<() => void> = [];
    const received: string[] = [];
    const stream = new Writable({
      highWaterMark: 1024,
      decodeStrings: false,
      write(chunk: string, _encoding, callback) {
        received.push(chunk);
        held.push(callback);
      },
    });
    const sink = new BoundedSink(stream, { maxBufferedBytes: 2000 });
    for (let i = 0; i < 200; i++) sink.write(line(i, 50));
    expect(stream.writableLength, "the stream's own buffer stops near its high-water mark").toBeLessThanOrEqual(
      1024 + 50,
    );
    expect(sink.stats().dropped).toBeGreaterThan(0);
    while (held.length > 0 || sink.stats().buffered > 0) {
      const next = held.shift();
      if (next) next();
      else await new Promise((resolve) => setImmediate(resolve));
    }
    await sink.flush();
    const lines = received.join("").split("\n").filter(Boolean);
    expect(lines.length + sink.stats().dropped).toBe(200);
    stream.destroy();
  });

  it("survives a destination that fails: lines lost are counted, the process does not crash", async () => {
    const stream = new Writable({
      write(_chunk, _encoding, callback) {
        callback(new Error("EPIPE: the log shipper went away"));
      },
    });
    const sink = new BoundedSink(stream);
    sink.write(line(1));
    // events.once() would reject on the 'error' event; the sink must be the one to handle it.
    await new Promise((resolve) => stream.on("close", resolve));
    sink.write(line(2));
    sink.write(line(3));
    await sink.flush();
    expect(sink.stats(), "an unhandled 'error' event on the stream would have killed the process").toMatchObject({
      written: 0,
      dropped: 3,
    });
    const throwing: LogDestination = {
      write: () => {
        throw new Error("closed");
      },
      once: () => undefined,
    };
    const other = new BoundedSink(throwing);
    expect(() => other.write(line(1))).not.toThrow();
    await other.flush();
    expect(other.stats().dropped).toBe(1);
  });

  it("resolves flush() only once the destination confirmed every write", async () => {
    const confirmations: Array<() => void> = [];
    const slow: LogDestination = {
      write: (_chunk, callback) => {
        confirmations.push(() => callback());
        return true;
      },
      once: () => undefined,
    };
    const sink = new BoundedSink(slow);
    sink.write(line(1));
    sink.write(line(2));
    let flushed = false;
    const flushing = sink.flush().then(() => (flushed = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(flushed, "two writes are not confirmed yet").toBe(false);
    confirmations.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(flushed, "one write is still not confirmed").toBe(false);
    for (const confirm of confirmations) confirm();
    await flushing;
    expect(flushed).toBe(true);
  });

  it("holds up to 4 MiB by default", () => {
    const destination = new TestDestination();
    destination.mode = "stalled";
    const sink = new BoundedSink(destination);
    for (let i = 0; i < 1000; i++) sink.write(line(i));
    expect(sink.stats().dropped, "100 KB fits in the default buffer").toBe(0);
    for (let i = 0; i < 50_000; i++) sink.write(line(i));
    expect(sink.stats().bufferedBytes).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(sink.stats().dropped, "5 MB does not").toBeGreaterThan(0);
  });

  it("treats an 'error' event as a broken destination: what is buffered and what comes later is dropped", async () => {
    const destination = new TestDestination();
    destination.mode = "stalled";
    const sink = new BoundedSink(destination, { maxBufferedBytes: 1000 });
    for (let i = 0; i < 5; i++) sink.write(line(i));
    expect(sink.stats()).toMatchObject({ written: 1, buffered: 4 });
    destination.emit("error", new Error("ECONNRESET"));
    sink.write(line(5));
    expect(sink.stats(), "a broken destination gets nothing more").toMatchObject({
      written: 1,
      buffered: 0,
      bufferedBytes: 0,
      dropped: 5,
    });
    expect(destination.chunks).toHaveLength(1);
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 2000)));
    const flushed = await Promise.race([sink.flush().then(() => true), gaveUp]);
    clearTimeout(timer);
    expect(flushed, "flush() must not wait for callbacks that a broken destination may never send").toBe(true);
  });

  it("catches up in chunks of at most maxChunkBytes, and through many short drains", async () => {
    const destination = new TestDestination();
    destination.mode = "stalled";
    const sink = new BoundedSink(destination, { maxBufferedBytes: 1_000_000, maxChunkBytes: 250 });
    for (let i = 0; i < 3000; i++) sink.write(line(i, 40));
    // Drain, but fill up again every third chunk: many short catch-ups over a long queue.
    let writes = 0;
    const original = destination.write.bind(destination);
    destination.write = (chunk, callback) => {
      original(chunk, callback);
      if (destination.mode === "ok" && ++writes % 3 === 0) {
        destination.mode = "stalled";
        setImmediate(() => destination.resume());
        return false;
      }
      return true;
    };
    destination.resume();
    while (sink.stats().buffered > 0) {
      const { written, buffered, dropped } = sink.stats();
      expect(written + buffered + dropped, "mid-catch-up, every line is written, buffered or dropped").toBe(3000);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await sink.flush();
    expect(destination.writesWhileStalled, "after a write returns false, nothing more is written until 'drain'").toBe(
      1,
    );
    expect(
      destination.chunks.slice(1).every((chunk) => chunk.length <= 250),
      "no chunk over maxChunkBytes",
    ).toBe(true);
    expect(
      destination.chunks.length,
      "catching up joins several buffered lines into one write (six 40-byte lines fit in 250)",
    ).toBeLessThanOrEqual(1 + 3000 / 5);
    expect(
      destination.lines().map((l) => Number(l.split(" ")[1])),
      "all 3,000, in order",
    ).toEqual(Array.from({ length: 3000 }, (_, i) => i));
  });

  it("refuses sizes that are negative or not whole numbers with RangeError", () => {
    const destination = new TestDestination();
    expect(() => new BoundedSink(destination, { maxBufferedBytes: -1 })).toThrow(RangeError);
    expect(() => new BoundedSink(destination, { maxBufferedBytes: 1.5 })).toThrow(RangeError);
    expect(() => new BoundedSink(destination, { maxChunkBytes: -1 })).toThrow(RangeError);
    expect(
      () => new BoundedSink(destination, { maxBufferedBytes: 0 }),
      "0 is a valid bound: drop everything while full",
    ).not.toThrow();
  });
});

describe("request latency does not follow a stalled sink", () => {
  const servers: http.Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  function get(port: number): Promise<number> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port, path: "/orders/1", agent: false }, (res) => {
        res.resume();
        res.on("end", () => resolve(performance.now() - started));
      });
      req.on("error", reject);
      req.end();
    });
  }

  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

  it("keeps answering as fast with the log destination stalled, dropping lines instead", async () => {
    const destination = new TestDestination();
    const sink = new BoundedSink(destination, { maxBufferedBytes: 4096 });
    const log = createLogger({ sink });
    const app = express();
    app.use((req, _res, next) => withLogContext({ requestId: req.get("x-request-id") ?? "r" }, next));
    app.get("/orders/:id", (req, res) => {
      for (let i = 0; i < 10; i++) log.info({ orderId: req.params.id, step: i }, "processing");
      res.json({ ok: true });
    });
    const server = app.listen(0, "127.0.0.1");
    servers.push(server);
    await once(server, "listening");
    const port = (server.address() as AddressInfo).port;

    const healthy: number[] = [];
    for (let i = 0; i < 15; i++) healthy.push(await get(port));
    destination.mode = "stalled";
    destination.blockMs = 20;
    const stalled: number[] = [];
    for (let i = 0; i < 15; i++) stalled.push(await get(port));

    // Same run, same machine: compared with each other, with a wide margin for a loaded box.
    const why =
      `median latency stalled ${median(stalled).toFixed(1)} ms vs healthy ${median(healthy).toFixed(1)} ms: ` +
      "every write to a stalled destination costs the request 20 ms";
    expect(median(stalled), why).toBeLessThan(median(healthy) * 3 + 40);
    expect(
      sink.stats().dropped,
      "with the destination stalled, lines are dropped rather than waited for",
    ).toBeGreaterThan(0);
    destination.resume();
    await sink.flush();
  });
});
