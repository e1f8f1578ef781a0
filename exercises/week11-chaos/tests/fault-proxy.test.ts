import { usePostgres } from "#fixtures/postgres";
import { seededRandom } from "#fixtures/random";
import { useRedis } from "#fixtures/redis";
import { afterEach, describe, expect, it } from "vitest";
import { startFaultProxy, type FaultProxy, type FaultProxyOptions } from "../src/fault-proxy";
import { slowReader, startFlood, whenSettled } from "./support/flood";
import { closeClients, eventually, postgresVia, rawClient, redisVia, timed, within } from "./support/sockets";

const redis = useRedis();
const postgres = usePostgres();
const redisTarget = () => {
  const url = new URL(redis.url);
  return { host: url.hostname, port: Number(url.port || 6379) };
};
const postgresTarget = () => {
  const url = new URL(postgres.url);
  return { host: url.hostname, port: Number(url.port || 5432) };
};

const proxies: FaultProxy[] = [];
afterEach(async () => {
  await closeClients();
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

type Target = { host: string; port: number };

async function proxyTo(upstream: Target, options: Partial<FaultProxyOptions> = {}): Promise<FaultProxy> {
  const proxy = await startFaultProxy({ upstream, ...options });
  proxies.push(proxy);
  return proxy;
}

const PING = "*1\r\n$4\r\nPING\r\n";

describe("a transparent proxy in front of Redis and Postgres", () => {
  it("carries Redis commands and a Postgres session unchanged when no toxic is set", async () => {
    const toRedis = await proxyTo(redisTarget());
    const client = redisVia(toRedis.port, redis.prefix);
    await client.set("greeting", "hello through the proxy");
    expect(await client.get("greeting"), "a proxy without toxics must be invisible").toBe("hello through the proxy");
    const toPostgres = await proxyTo(postgresTarget());
    const db = await postgresVia(toPostgres.port, postgres.url);
    const { rows } = await db.query<{ n: number }>("SELECT 40 + $1::int AS n", [2]);
    expect(rows[0]?.n, "the Postgres wire protocol (startup, extended query) must pass untouched").toBe(42);
    expect(toRedis.stats().connectionsAccepted).toBe(1);
    expect(toPostgres.stats().connectionsAccepted).toBe(1);
  });

  it("shows every chunk to the onData tap, with its connection and direction", async () => {
    const seen: { connectionId: number; direction: string; text: string }[] = [];
    const proxy = await proxyTo(redisTarget(), {
      onData: (e) => seen.push({ connectionId: e.connectionId, direction: e.direction, text: e.chunk.toString() }),
    });
    const first = await rawClient(proxy.port);
    first.socket.write(PING);
    await first.waitFor("+PONG\r\n");
    const second = await rawClient(proxy.port);
    second.socket.write(PING);
    await second.waitFor("+PONG\r\n");
    const upstream = seen.filter((e) => e.direction === "upstream");
    const downstream = seen.filter((e) => e.direction === "downstream");
    expect(upstream.map((e) => e.text).join(""), "the tap sees what the clients sent").toBe(PING + PING);
    expect(downstream.map((e) => e.text).join(""), "and what the server answered").toBe("+PONG\r\n+PONG\r\n");
    expect(
      new Set(seen.map((e) => e.connectionId)),
      "connections are numbered 1, 2, ... in the order accepted",
    ).toEqual(new Set([1, 2]));
  });
});

describe("toxics added and removed at run time", () => {
  it("delays a connection that is already open, and removing the toxic restores its speed", async () => {
    const proxy = await proxyTo(redisTarget());
    const client = redisVia(proxy.port, redis.prefix);
    await client.ping();
    const latencyMs = 400;
    proxy.addToxic({ type: "latency", stream: "downstream", latencyMs });
    const slow = await timed(() => client.ping());
    expect(
      slow,
      "a latency toxic delays every reply by at least latencyMs, on connections already open",
    ).toBeGreaterThanOrEqual(latencyMs - 5);
    expect(proxy.removeToxic("latency_downstream"), "the default name is `${type}_${stream}`").toBe(true);
    const fast = await timed(() => client.ping());
    expect(fast, "once the toxic is removed the same connection is fast again, without a restart").toBeLessThan(
      latencyMs,
    );
  });

  it("adds jitter: delays spread over latencyMs ± jitterMs, some below latencyMs", async () => {
    const proxy = await proxyTo(redisTarget(), { random: seededRandom(11) });
    proxy.addToxic({ type: "latency", stream: "upstream", latencyMs: 150, jitterMs: 145 });
    const client = redisVia(proxy.port, redis.prefix);
    await client.ping();
    const samples: number[] = [];
    for (let i = 0; i < 20; i++) samples.push(await timed(() => client.ping()));
    expect(Math.min(...samples), "no delay is shorter than latencyMs − jitterMs").toBeGreaterThanOrEqual(4);
    expect(
      Math.min(...samples),
      "jitter spreads delays both ways: with ±145 ms around 150 ms some replies come well under 150 ms",
    ).toBeLessThan(100);
  });

  it("limits bandwidth: a 200 kB reply at 400 kB/s takes about half a second, and arrives intact", async () => {
    const value = "x".repeat(200_000);
    const writer = redis.client();
    await writer.set("big", value);
    const proxy = await proxyTo(redisTarget());
    const client = redisVia(proxy.port, redis.prefix);
    const unthrottled = await timed(() => client.get("big"));
    proxy.addToxic({ type: "bandwidth", stream: "downstream", bytesPerSecond: 400_000 });
    let got: string | null = null;
    const throttled = await timed(async () => (got = await client.get("big")));
    expect(got === value, "throttled data must still arrive complete").toBe(true);
    expect(throttled, "200 kB at 400 kB/s cannot arrive in much less than 0.5 s").toBeGreaterThanOrEqual(350);
    expect(throttled, "and it is much slower than the same reply unthrottled").toBeGreaterThan(unthrottled * 2);
  });

  it("slices data into small pieces that the other side must reassemble", async () => {
    const value = "0123456789".repeat(300);
    const proxy = await proxyTo(redisTarget(), { random: seededRandom(5) });
    proxy.addToxic({ type: "slicer", stream: "upstream", averageSize: 40, sizeVariation: 20 });
    const client = redisVia(proxy.port, redis.prefix);
    await client.set("sliced", value);
    expect(await client.get("sliced"), "Redis reassembles a command that came in slices").toBe(value);
    proxy.addToxic({ type: "slicer", stream: "downstream", averageSize: 50, sizeVariation: 10, delayMs: 2 });
    const raw = await rawClient(proxy.port);
    const key = `${redis.prefix}sliced`;
    raw.socket.write(`*2\r\n$3\r\nGET\r\n$${key.length}\r\n${key}\r\n`);
    await raw.waitFor(value + "\r\n");
    expect(
      raw.reads(),
      "a 3 kB reply cut into ~50-byte slices 2 ms apart arrives in many reads, not one",
    ).toBeGreaterThanOrEqual(10);
  });

  it("black-holes data with a timeout of 0: nothing arrives or is kept, and data flows once it goes", async () => {
    const proxy = await proxyTo(redisTarget());
    const raw = await rawClient(proxy.port);
    proxy.addToxic({ type: "timeout", stream: "upstream", timeoutMs: 0 });
    raw.socket.write(PING);
    await expect(raw.waitFor("+PONG", 300), "a black hole never answers").rejects.toThrow();
    expect(proxy.removeToxic("timeout_upstream")).toBe(true);
    raw.socket.write(PING);
    await raw.waitFor("+PONG\r\n");
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(raw.received(), "the PING sent into the black hole was dropped, not queued and replayed later").toBe(
      "+PONG\r\n",
    );
  });

  it("closes the connection after the timeout of a timeout toxic, with no data delivered", async () => {
    const proxy = await proxyTo(redisTarget());
    const raw = await rawClient(proxy.port);
    const started = performance.now();
    proxy.addToxic({ type: "timeout", stream: "downstream", timeoutMs: 200 });
    raw.socket.write(PING);
    await within(raw.ended, "the timeout toxic closing the connection after 200 ms");
    expect(
      performance.now() - started,
      "the connection stays silent for timeoutMs before it is closed",
    ).toBeGreaterThanOrEqual(195);
    expect(raw.received(), "the reply fell into the black hole").toBe("");
  });

  it("resets connections with reset_peer: the client sees ECONNRESET, on open and on new connections", async () => {
    const proxy = await proxyTo(redisTarget());
    const open = await rawClient(proxy.port);
    open.socket.write(PING);
    await open.waitFor("+PONG");
    const started = performance.now();
    proxy.addToxic({ type: "reset_peer", stream: "upstream", timeoutMs: 150 });
    expect(
      await within(open.ended, "reset_peer resetting a connection that was already open"),
      "a reset is a TCP RST, which the client sees as ECONNRESET, not a clean end",
    ).toBe("ECONNRESET");
    expect(
      performance.now() - started,
      "the reset comes timeoutMs after the toxic met the connection",
    ).toBeGreaterThanOrEqual(145);
    const fresh = await rawClient(proxy.port);
    expect(
      await within(fresh.ended, "reset_peer resetting a new connection"),
      "connections accepted while the toxic is in force are reset too",
    ).toBe("ECONNRESET");
    proxy.removeAllToxics();
    const after = await rawClient(proxy.port);
    after.socket.write(PING);
    await after.waitFor("+PONG");
    expect(proxy.toxics(), "removeAllToxics leaves none").toEqual([]);
  });

  it("applies a toxic to a share of connections given by its toxicity, repeatably with a seed", async () => {
    const resetPattern = async (seed: number, toxicity: number): Promise<boolean[]> => {
      const proxy = await proxyTo(redisTarget(), { random: seededRandom(seed) });
      proxy.addToxic({ type: "reset_peer", stream: "upstream", toxicity });
      const outcomes: boolean[] = [];
      for (let i = 0; i < 40; i++) {
        const raw = await rawClient(proxy.port);
        raw.socket.write(PING);
        const reset = await Promise.race([
          raw.ended.then((how) => how === "ECONNRESET"),
          raw.waitFor("+PONG").then(() => false),
        ]);
        outcomes.push(reset);
        raw.socket.destroy();
      }
      return outcomes;
    };
    const half = await resetPattern(7, 0.5);
    const resets = half.filter(Boolean).length;
    expect(resets, "toxicity 0.5 affects about half of 40 connections").toBeGreaterThanOrEqual(8);
    expect(resets).toBeLessThanOrEqual(32);
    expect(
      await resetPattern(7, 0.5),
      "the same seed affects the same connections: draw from the injected random",
    ).toEqual(half);
    expect((await resetPattern(7, 0)).filter(Boolean).length, "toxicity 0 affects none").toBe(0);
  });

  it("rejects out-of-range toxics (RangeError) and taken names, and lists toxics in order", async () => {
    const proxy = await proxyTo(redisTarget());
    expect(() => proxy.addToxic({ type: "latency", stream: "upstream", latencyMs: -1 })).toThrow(RangeError);
    expect(
      () => proxy.addToxic({ type: "latency", stream: "upstream", latencyMs: 10, jitterMs: 20 }),
      "jitter larger than the latency would mean negative delays",
    ).toThrow(RangeError);
    expect(() => proxy.addToxic({ type: "bandwidth", stream: "upstream", bytesPerSecond: 0 })).toThrow(RangeError);
    expect(() => proxy.addToxic({ type: "reset_peer", stream: "upstream", toxicity: 1.5 })).toThrow(RangeError);
    expect(proxy.addToxic({ type: "latency", stream: "upstream", latencyMs: 10, name: "slow" })).toBe("slow");
    expect(
      () => proxy.addToxic({ type: "timeout", stream: "downstream", timeoutMs: 0, name: "slow" }),
      "names are unique",
    ).toThrow(Error);
    proxy.addToxic({ type: "timeout", stream: "downstream", timeoutMs: 0 });
    expect(proxy.toxics().map((t) => t.name)).toEqual(["slow", "timeout_downstream"]);
    expect(proxy.removeToxic("nothing-by-that-name")).toBe(false);
  });
});

describe("backpressure: a slow reader does not make the proxy buffer without bound", () => {
  /** What a direct connection leaves in flight in kernel buffers when its reader stops. */
  async function directSlack(): Promise<number> {
    const flood = await startFlood(1 << 30);
    try {
      const reader = await slowReader(flood.port);
      const inFlight = await whenSettled(flood.sent, flood.finished);
      reader.socket.destroy();
      return inFlight;
    } finally {
      await flood.close();
    }
  }

  async function floodThroughProxy(addToxics: (proxy: FaultProxy) => void): Promise<void> {
    const slack = await directSlack();
    const total = 8 * slack + 16 * 1024 * 1024;
    const flood = await startFlood(total);
    try {
      const proxy = await proxyTo({ host: "127.0.0.1", port: flood.port }, { highWaterMark: 64 * 1024 });
      addToxics(proxy);
      const reader = await slowReader(proxy.port);
      const inFlight = await whenSettled(flood.sent, flood.finished);
      expect(
        flood.finished(),
        `the writer got all ${total} bytes out although nobody read them: the proxy buffered them all`,
      ).toBe(false);
      const bound = 3 * slack + 1024 * 1024;
      expect(
        inFlight,
        `with the reader stopped, a direct connection holds ${slack} bytes in the kernel; through the proxy ` +
          `(two connections) at most ${bound} may be in flight`,
      ).toBeLessThanOrEqual(bound);
      expect(proxy.stats().bufferedBytes, "the proxy's own buffers stay near its highWaterMark").toBeLessThanOrEqual(
        1024 * 1024,
      );
      proxy.removeAllToxics();
      expect(await reader.drain(total), "once the reader reads, every byte arrives, in order").toBe(total);
    } finally {
      await flood.close();
    }
  }

  it("holds a bounded amount when the client stops reading", async () => {
    await floodThroughProxy(() => {});
  }, 30_000);

  it("stays bounded while a latency toxic holds chunks back", async () => {
    await floodThroughProxy((proxy) => proxy.addToxic({ type: "latency", stream: "downstream", latencyMs: 20 }));
  }, 30_000);
});

describe("closing", () => {
  it("closes the upstream connection when the client hangs up", async () => {
    const proxy = await proxyTo(redisTarget());
    const raw = await rawClient(proxy.port);
    raw.socket.write(PING);
    await raw.waitFor("+PONG");
    expect(proxy.stats().activeConnections).toBe(1);
    raw.socket.destroy();
    await eventually(
      () => proxy.stats().activeConnections === 0,
      "the proxy dropping the upstream side of a closed client",
    );
  });

  it("close() ends every connection, Redis and Postgres alike, and leaves no socket or timer behind", async () => {
    const toRedis = await proxyTo(redisTarget());
    const toPostgres = await proxyTo(postgresTarget());
    toRedis.addToxic({ type: "latency", stream: "downstream", latencyMs: 5_000 });
    const raw = await rawClient(toRedis.port);
    raw.socket.write(PING);
    const db = await postgresVia(toPostgres.port, postgres.url);
    const dbEnded = new Promise((resolve) => db.once("end", resolve));
    await eventually(() => toRedis.stats().connectionsAccepted === 1, "the proxy accepting the client");
    await within(Promise.all([toRedis.close(), toPostgres.close()]), "close() resolving");
    expect(
      await within(raw.ended, "close() closing a client connection"),
      "a connection still waiting on a latency toxic is closed too",
    ).toBeTypeOf("string");
    await within(dbEnded, "close() ending the Postgres session");
    expect(toRedis.stats().activeConnections).toBe(0);
    expect(toPostgres.stats().activeConnections).toBe(0);
    // The runner's leak guard fails this file if a socket or a timer (the 5 s latency) is left.
  });
});
