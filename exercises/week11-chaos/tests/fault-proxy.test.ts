import { usePostgres } from "#fixtures/postgres";
import { seededRandom } from "#fixtures/random";
import { useRedis } from "#fixtures/redis";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { startFaultProxy, type FaultProxy, type FaultProxyOptions, type ToxicSpec } from "../src/fault-proxy";
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

/** A small TCP server of the test's own, half-open like a real one may be; closed after each test. */
const servers: { server: net.Server; sockets: Set<net.Socket> }[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(({ server, sockets }) => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(resolve));
    }),
  );
});
async function tcpServer(onSocket: (socket: net.Socket) => void): Promise<Target> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    onSocket(socket);
  });
  servers.push({ server, sockets });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { host: "127.0.0.1", port: (server.address() as net.AddressInfo).port };
}

/** Resolves with everything `socket` receives until the peer ends its side. */
const readToEnd = (socket: net.Socket) =>
  new Promise<string>((resolve) => {
    let text = "";
    socket.on("data", (chunk: Buffer) => (text += chunk.toString()));
    socket.on("end", () => resolve(text));
  });

/** A port nobody listens on right now. */
async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** The process's open handles of one kind ("Timeout", "TCPSocketWrap"...), as Node lists them. */
const resources = (kind: string) => process.getActiveResourcesInfo().filter((r) => r === kind).length;

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

  it("listens on 127.0.0.1 by default or where it is told, says where in url(), and refuses a taken port", async () => {
    const byDefault = await proxyTo(redisTarget());
    expect(byDefault.host, "the default is loopback only: a fault proxy is not a public service").toBe("127.0.0.1");
    const port = await freePort();
    const placed = await proxyTo(redisTarget(), { listen: { host: "127.0.0.1", port } });
    expect(placed.port, "listen.port is honoured").toBe(port);
    expect(placed.url("redis"), "url(scheme) is what a client's connection string needs").toBe(
      `redis://127.0.0.1:${port}`,
    );
    const client = redisVia(placed.port, redis.prefix);
    expect(await client.ping()).toBe("PONG");
    await expect(
      startFaultProxy({ upstream: redisTarget(), listen: { port } }),
      "a port in use is an error the caller must hear about (EADDRINUSE), not a proxy that never listens",
    ).rejects.toThrow();
  });

  it("keeps a half-closed connection open the other way: a client's FIN still gets its answer", async () => {
    // A server that answers once the client has finished sending, as many request/response protocols do.
    const upstream = await tcpServer((socket) => {
      let request = "";
      socket.on("data", (chunk: Buffer) => (request += chunk.toString()));
      socket.on("end", () => socket.end(`got ${request}`));
    });
    const proxy = await proxyTo(upstream);
    const client = net.connect({ host: "127.0.0.1", port: proxy.port, allowHalfOpen: true });
    client.on("error", () => {});
    const answer = readToEnd(client);
    client.end("question");
    expect(
      await within(answer, "the answer to a half-closed request"),
      "the client's FIN ends only its direction: the proxy must pass it on and still carry the answer back",
    ).toBe("got question");
    client.destroy();
  });

  it("keeps a half-closed connection open the other way: a server's FIN still lets the client answer", async () => {
    let heard!: (text: string) => void;
    const serverHeard = new Promise<string>((resolve) => (heard = resolve));
    const upstream = await tcpServer((socket) => {
      socket.end("hello");
      void readToEnd(socket).then(heard);
    });
    const proxy = await proxyTo(upstream);
    const client = net.connect({ host: "127.0.0.1", port: proxy.port, allowHalfOpen: true });
    client.on("error", () => {});
    expect(await within(readToEnd(client), "the server's greeting and FIN")).toBe("hello");
    client.end("goodbye");
    expect(
      await within(serverHeard, "the client's answer reaching the server"),
      "after the server's FIN its socket still reads: what the client sends then must reach it",
    ).toBe("goodbye");
    client.destroy();
  });

  it("passes a server's reset on as a reset, as the client would see it without the proxy", async () => {
    const upstream = await tcpServer((socket) => socket.once("data", () => socket.resetAndDestroy()));
    const proxy = await proxyTo(upstream);
    const raw = await rawClient(proxy.port);
    raw.socket.write("anything");
    expect(
      await within(raw.ended, "the client hearing of the reset"),
      "a server that resets must not look like one that closed cleanly: the client's error handling differs",
    ).toBe("ECONNRESET");
    await eventually(() => proxy.stats().activeConnections === 0, "the proxy dropping the reset connection");
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

  it("acts on its own direction only, and only on the connections its toxicity picked", async () => {
    const proxy = await proxyTo(redisTarget());
    proxy.addToxic({ type: "timeout", stream: "downstream", timeoutMs: 0 });
    const raw = await rawClient(proxy.port);
    const key = `${redis.prefix}one-way`;
    raw.socket.write(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$4\r\nsent\r\n`);
    const direct = redis.client();
    let stored: string | null = null;
    for (let i = 0; i < 300 && stored === null; i++) {
      stored = await direct.get("one-way");
      if (stored === null) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(stored, "a black hole on the downstream side leaves the upstream side alone: the SET gets through").toBe(
      "sent",
    );
    expect(raw.received(), "while its reply falls into the hole").toBe("");
    proxy.removeAllToxics();
    proxy.addToxic({ type: "timeout", stream: "upstream", timeoutMs: 0, toxicity: 0 });
    const spared = await rawClient(proxy.port);
    spared.socket.write(PING);
    await spared.waitFor("+PONG\r\n", 2_000);
    expect(spared.received(), "a toxic with toxicity 0 applies to no connection, not even for a chunk").toBe(
      "+PONG\r\n",
    );
  });

  it("applies every toxic in force on a direction together", async () => {
    const proxy = await proxyTo(redisTarget(), { random: seededRandom(3) });
    const client = redisVia(proxy.port, redis.prefix);
    await client.ping();
    const latencyMs = 300;
    proxy.addToxic({ type: "slicer", stream: "downstream", averageSize: 2 });
    proxy.addToxic({ type: "latency", stream: "downstream", latencyMs });
    let reply = "";
    const elapsed = await timed(async () => (reply = await client.ping()));
    expect(reply, "sliced replies are reassembled").toBe("PONG");
    expect(
      elapsed,
      "a latency toxic added after a slicer still delays the reply: every toxic in force acts, not just the first",
    ).toBeGreaterThanOrEqual(latencyMs - 5);
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
    expect(
      await within(raw.ended, "the timeout toxic closing the connection after 200 ms"),
      "a timeout toxic closes the connection; a TCP reset is reset_peer's job",
    ).toBe("end");
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
    proxy.addToxic({ type: "reset_peer", stream: "downstream", timeoutMs: 0 });
    expect(
      await within(after.ended, "reset_peer with timeoutMs 0 resetting an open connection"),
      "timeoutMs: 0 resets at once, the same as leaving it out",
    ).toBe("ECONNRESET");
  });

  it("cancels a pending reset when its toxic is removed before it fires", async () => {
    const proxy = await proxyTo(redisTarget());
    const raw = await rawClient(proxy.port);
    proxy.addToxic({ type: "reset_peer", stream: "upstream", timeoutMs: 100 });
    proxy.removeToxic("reset_peer_upstream");
    const outcome = await Promise.race([raw.ended, new Promise((resolve) => setTimeout(resolve, 400, "still open"))]);
    expect(outcome, "a removed toxic does nothing more: its timer must go with it").toBe("still open");
    raw.socket.write(PING);
    await raw.waitFor("+PONG\r\n");
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
    const fifth = (await resetPattern(9, 0.2)).filter(Boolean).length;
    expect(
      fifth,
      "toxicity 0.2 affects about a fifth of 40 connections (the chance it applies, not that it spares)",
    ).toBeLessThanOrEqual(16);
    expect(fifth).toBeGreaterThanOrEqual(1);
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
    expect(() => proxy.addToxic({ type: "reset_peer", stream: "upstream", toxicity: -0.1 })).toThrow(RangeError);
    expect(() => proxy.addToxic({ type: "slicer", stream: "upstream", averageSize: 0 })).toThrow(RangeError);
    expect(
      () => proxy.addToxic({ type: "slicer", stream: "upstream", averageSize: 10, sizeVariation: 10 }),
      "sizeVariation must be less than averageSize, or slices of 0 bytes come out",
    ).toThrow(RangeError);
    expect(() => proxy.addToxic({ type: "slicer", stream: "upstream", averageSize: 10, delayMs: -1 })).toThrow(
      RangeError,
    );
    expect(() => proxy.addToxic({ type: "timeout", stream: "upstream", timeoutMs: -1 })).toThrow(RangeError);
    expect(() => proxy.addToxic({ type: "reset_peer", stream: "upstream", timeoutMs: -1 })).toThrow(RangeError);
    expect(
      () => proxy.addToxic({ type: "latency", stream: "sideways", latencyMs: 1 } as unknown as ToxicSpec),
      "a stream is upstream or downstream",
    ).toThrow(Error);
    expect(
      () => proxy.addToxic({ type: "flood", stream: "upstream" } as unknown as ToxicSpec),
      "an unknown type must be refused, not ignored",
    ).toThrow(Error);
    expect(proxy.toxics(), "a refused toxic is not added").toEqual([]);
    const limits = [
      proxy.addToxic({ type: "reset_peer", stream: "upstream", toxicity: 1, timeoutMs: 0, name: "edge-1" }),
      proxy.addToxic({ type: "latency", stream: "upstream", latencyMs: 10, jitterMs: 10, name: "edge-2" }),
      proxy.addToxic({ type: "slicer", stream: "upstream", averageSize: 10, sizeVariation: 9, name: "edge-3" }),
    ];
    expect(limits, "the limits themselves are in range").toEqual(["edge-1", "edge-2", "edge-3"]);
    proxy.removeAllToxics();
    await expect(
      startFaultProxy({ upstream: redisTarget(), highWaterMark: 0 }),
      "a highWaterMark of 0 could never hold a byte",
    ).rejects.toThrow(RangeError);
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
      const stats = proxy.stats();
      expect(stats.bufferedBytes, "the proxy's own buffers stay near its highWaterMark").toBeLessThanOrEqual(
        1024 * 1024,
      );
      expect(
        stats.bufferedBytes,
        "with the reader stopped the proxy holds what it could not deliver: stats() must say so",
      ).toBeGreaterThan(0);
      expect(stats.peakBufferedBytes, "the peak is at least what is held now").toBeGreaterThanOrEqual(
        stats.bufferedBytes,
      );
      expect(stats.peakBufferedBytes, "and it never went past the bound either").toBeLessThanOrEqual(1024 * 1024);
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
    const timersBefore = resources("Timeout");
    const socketsBefore = resources("TCPSocketWrap");
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
      resources("Timeout"),
      "close() must cancel the timers of its connections (here the 5 s latency of a held PING)",
    ).toBeLessThanOrEqual(timersBefore);
    expect(
      resources("TCPSocketWrap"),
      "close() resolves once the proxy's own sockets are closed; at most the test's two clients may be left",
    ).toBeLessThanOrEqual(socketsBefore + 2);
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
