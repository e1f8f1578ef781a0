import { once } from "node:events";
import net from "node:net";
import { blackholeServer, closedPort } from "#fixtures/net";
import { seededRandom } from "#fixtures/random";
import { useRedis } from "#fixtures/redis";
import { Redis, type RedisOptions } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CacheAside, type CacheAsideOptions, cacheRedisOptions } from "../src/cache-aside";

const redis = useRedis();

const MINUTE = 60_000;
/** PTTL is read a moment after the SET; this covers that moment on a busy machine. */
const SLACK_MS = 5_000;

// Each test gets its own namespace, so ids can repeat between tests.
let namespace = "user";
let tests = 0;
beforeEach(() => {
  namespace = `user${++tests}`;
});

function makeCache(overrides: Partial<CacheAsideOptions> = {}): CacheAside {
  return new CacheAside({
    redis: redis.client(),
    namespace,
    version: 1,
    ttl: 10 * MINUTE,
    negativeTtl: MINUTE,
    jitter: 0,
    ...overrides,
  });
}

function counted<T>(load: () => Promise<T>): { load: () => Promise<T>; calls: () => number } {
  let calls = 0;
  return {
    load: () => {
      calls++;
      return load();
    },
    calls: () => calls,
  };
}

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Records the name of every command a client sends from now on. */
function recordCommands(client: Redis): string[] {
  const names: string[] = [];
  const send = client.sendCommand.bind(client);
  client.sendCommand = ((command: { name: string }, stream?: unknown) => {
    names.push(command.name.toLowerCase());
    return send(command as never, stream as never);
  }) as typeof client.sendCommand;
  return names;
}

/**
 * Overwrites what the cache stored under `key` with `garbage`, in the layout it chose: the
 * string itself, or every field of a hash (a bug, a manual edit, an old deploy's format).
 */
async function corrupt(client: Redis, key: string, garbage: string): Promise<void> {
  const type = await client.type(key);
  if (type === "string") await client.set(key, garbage, "KEEPTTL");
  else if (type === "hash")
    await client.hset(key, Object.fromEntries((await client.hkeys(key)).map((field) => [field, garbage])));
  else throw new Error(`the cache stored ${key} as a ${type}; this test can corrupt a string or a hash`);
}

/** Fails with `message` unless `promise` settles within `ms`: the test's guard against a hang. */
async function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

// Clients and servers for the fault tests, which the fixture does not own.
const opened: { close(): unknown }[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((thing) => thing.close()));
});

function faultyClient(target: string | RedisOptions, options: RedisOptions): Redis {
  const client =
    typeof target === "string"
      ? new Redis(target, { ...options, keyPrefix: redis.prefix })
      : new Redis({ ...target, ...options, keyPrefix: redis.prefix });
  client.on("error", () => {});
  opened.push({ close: () => client.disconnect() });
  return client;
}

async function ready(client: Redis): Promise<void> {
  if (client.status === "ready") return;
  await within(once(client, "ready"), 10_000, "the client never became ready");
}

/**
 * A TCP proxy in front of the test's Redis that can stop forwarding requests and later
 * deliver them in order: Redis "stalls" mid-connection, as under a long command, a failover
 * or a saturated network, while the connection itself stays up.
 */
async function stallableProxy(): Promise<{ url: string; stall(): void; resume(): void; drop(): void }> {
  const target = new URL(redis.url);
  const connections = new Set<{ upstream: net.Socket; held: Buffer[] }>();
  let stalled = false;
  const server = net.createServer((downstream) => {
    const upstream = net.connect(Number(target.port || 6379), target.hostname || "127.0.0.1");
    const connection = { upstream, held: [] as Buffer[] };
    connections.add(connection);
    downstream.on("data", (chunk: Buffer) => (stalled ? connection.held.push(chunk) : upstream.write(chunk)));
    upstream.on("data", (chunk: Buffer) => downstream.write(chunk));
    for (const [a, b] of [
      [downstream, upstream],
      [upstream, downstream],
    ] as const) {
      a.on("error", () => {});
      a.on("close", () => {
        b.destroy();
        connections.delete(connection);
      });
    }
    opened.push({ close: () => downstream.destroy() });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  opened.push({ close: () => new Promise((resolve) => server.close(resolve)) });
  const url = new URL(redis.url);
  url.hostname = "127.0.0.1";
  url.port = String((server.address() as net.AddressInfo).port);
  return {
    url: url.toString(),
    stall: () => {
      stalled = true;
    },
    resume: () => {
      stalled = false;
      for (const connection of connections)
        for (const chunk of connection.held.splice(0)) connection.upstream.write(chunk);
    },
    // Cuts every connection, as a Redis restart or a network blip does; new ones are accepted.
    drop: () => {
      for (const connection of connections) connection.upstream.destroy();
    },
  };
}

describe("CacheAside: reads through the cache", () => {
  it("loads on a miss, stores the value, and serves the next call from Redis without the loader", async () => {
    const cache = makeCache();
    const loader = counted(async () => ({ id: "42", name: "Ada" }));
    expect(await cache.getOrLoad("42", loader.load)).toEqual({
      value: { id: "42", name: "Ada" },
      source: "loader",
      degraded: false,
    });
    expect(await cache.getOrLoad("42", loader.load), "the second read must be a cache hit").toEqual({
      value: { id: "42", name: "Ada" },
      source: "cache",
      degraded: false,
    });
    expect(loader.calls(), "the loader (the database) runs once per miss, not per read").toBe(1);
  });

  it("serves a hit with exactly one Redis command", async () => {
    const client = redis.client();
    const cache = makeCache({ redis: client });
    await cache.getOrLoad("7", async () => "seven");
    const sent = recordCommands(client);
    for (let i = 0; i < 5; i++) expect((await cache.getOrLoad("7", async () => "other")).source).toBe("cache");
    expect(
      sent.length,
      `five hits sent ${JSON.stringify(sent)}: a hit is one command, one round trip (GET, or HGET for a hash layout); ` +
        "a second command per hit (a PTTL, an EXISTS) costs latency on every request",
    ).toBe(5);
  });

  it("round-trips JSON values of every shape, the falsy ones included", async () => {
    const cache = makeCache();
    const values: unknown[] = [
      0,
      "",
      false,
      [],
      {},
      "null",
      "n",
      "v",
      { nested: [1, { deep: true }] },
      3.25,
      "ünïcödé ✓",
    ];
    for (const [index, value] of values.entries()) {
      await cache.getOrLoad(`shape-${index}`, async () => value);
      const hit = await cache.getOrLoad(`shape-${index}`, async () => "wrong");
      expect(hit, `${JSON.stringify(value)} must come back as itself, from the cache`).toEqual({
        value,
        source: "cache",
        degraded: false,
      });
    }
  });

  it("stores the entry under a key that names the namespace, the version and the id, in any order", async () => {
    const client = redis.client();
    const cache = makeCache({ redis: client, namespace: "order", version: 3 });
    const key = cache.keyFor("99");
    expect(key, "the namespace is readable in the key (KEYS order:* in an incident)").toContain("order");
    expect(key, "so is the id").toContain("99");
    expect(cache.keyFor("99"), "the same id always maps to the same key").toBe(key);
    // Each pair differs in one part only; a key that leaves a part out, or runs the parts together
    // without a separator (order + 39 + 9 and order + 3 + 99 are both "order399"), gives two of them one key.
    const triples: [string, number, string][] = [
      ["order", 3, "99"],
      ["invoice", 3, "99"],
      ["order", 4, "99"],
      ["order", 3, "98"],
      ["order", 39, "9"],
      ["order", 33, "99"],
    ];
    const keys = triples.map(([namespace, version, id]) => makeCache({ namespace, version }).keyFor(id));
    const clashes = triples.filter((_, i) => keys.indexOf(keys[i]!) !== i).map((t) => t.join("/"));
    expect(clashes, `these (namespace, version, id) share a key with another: ${JSON.stringify(keys)}`).toEqual([]);
    await cache.getOrLoad("99", async () => ({ total: 5 }));
    expect(await client.exists(key), "the value is stored under keyFor(id)").toBe(1);
  });

  it("never reads an entry written under another version of the cached shape", async () => {
    const client = redis.client();
    const v1 = makeCache({ redis: client, version: 1 });
    const v2 = makeCache({ redis: client, version: 2 });
    expect(v1.keyFor("5"), "a version bump must change the key").not.toBe(v2.keyFor("5"));
    await v1.getOrLoad("5", async () => ({ name: "old shape" }));
    const loader = counted(async () => ({ fullName: "new shape" }));
    const result = await v2.getOrLoad("5", loader.load);
    expect(result.value, "after a deploy that changes the shape, old entries must not be decoded as new ones").toEqual({
      fullName: "new shape",
    });
    expect(loader.calls()).toBe(1);
  });

  it("treats an entry it cannot decode as a miss and replaces it", async () => {
    const client = redis.client();
    const cache = makeCache({ redis: client });
    for (const [index, garbage] of ["{not json at all", "v{broken", ""].entries()) {
      await cache.getOrLoad(`bad-${index}`, async () => ({ ok: "first" }));
      await corrupt(client, cache.keyFor(`bad-${index}`), garbage);
      const result = await cache.getOrLoad(`bad-${index}`, async () => ({ ok: true }));
      expect(
        result,
        `garbage in Redis (${JSON.stringify(garbage)}) must not break reads: reload from the source`,
      ).toEqual({
        value: { ok: true },
        source: "loader",
        degraded: false,
      });
      expect(
        (await cache.getOrLoad(`bad-${index}`, async () => ({ ok: false }))).source,
        "and the garbage is replaced",
      ).toBe("cache");
    }
  });

  it("passes a loader error to the caller and caches nothing", async () => {
    const client = redis.client();
    const cache = makeCache({ redis: client });
    const failure = new Error("database unavailable");
    await expect(cache.getOrLoad("9", () => Promise.reject(failure))).rejects.toBe(failure);
    expect(
      await client.exists(cache.keyFor("9")),
      "an error is not a value: caching it would serve the outage after it ended",
    ).toBe(0);
    expect((await cache.getOrLoad("9", async () => "back")).value).toBe("back");
  });
});

describe("CacheAside: configuration", () => {
  it("rejects TTLs, jitter and versions that make no sense", () => {
    const bad: Partial<CacheAsideOptions>[] = [
      { ttl: 0 },
      { ttl: Number.NaN },
      { negativeTtl: -1 },
      { negativeTtl: Number.POSITIVE_INFINITY },
      { jitter: 1 },
      { jitter: -0.1 },
      { version: 1.5 },
      { version: -1 },
    ];
    for (const overrides of bad) {
      expect(
        () => makeCache(overrides),
        `${JSON.stringify(overrides)} must fail at construction, not at the first SET`,
      ).toThrow(RangeError);
    }
    expect(() => makeCache({ version: 0, jitter: 0 }), "version 0 and no jitter are fine").not.toThrow();
  });

  it("rejects a per-call TTL that makes no sense", async () => {
    const cache = makeCache();
    await expect(cache.getOrLoad("1", async () => "x", { ttl: 0 })).rejects.toThrow(RangeError);
    await expect(cache.getOrLoad("1", async () => "x", { ttl: -5 })).rejects.toThrow(RangeError);
  });

  it("rejects a command timeout that is not a positive number", () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => cacheRedisOptions(bad), `commandTimeout ${bad}`).toThrow(RangeError);
    }
  });
});

describe("CacheAside: TTL with jitter", () => {
  it("stores a value for the full TTL when random() gives 0, because jitter only shortens", async () => {
    const client = redis.client();
    const cache = makeCache({ redis: client, ttl: 10 * MINUTE, jitter: 0.2, random: () => 0 });
    await cache.getOrLoad("1", async () => "x");
    const pttl = await client.pttl(cache.keyFor("1"));
    expect(pttl, "the TTL must be set with the key (PX), never left unbounded").toBeGreaterThan(10 * MINUTE - SLACK_MS);
    expect(pttl).toBeLessThanOrEqual(10 * MINUTE);
  });

  it("takes jitter × random() of the TTL off: jitter 0.2 and random() 0.5 leave 90 % of it", async () => {
    const client = redis.client();
    const cache = makeCache({ redis: client, ttl: 10 * MINUTE, jitter: 0.2, random: () => 0.5 });
    await cache.getOrLoad("1", async () => "x");
    const pttl = await client.pttl(cache.keyFor("1"));
    expect(pttl).toBeGreaterThan(9 * MINUTE - SLACK_MS);
    expect(pttl, "ttl × (1 − 0.2 × 0.5) = 9 minutes").toBeLessThanOrEqual(9 * MINUTE + 1);
  });

  it("never extends the TTL, even when random() is close to 1", async () => {
    const client = redis.client();
    const cache = makeCache({ redis: client, ttl: 10 * MINUTE, jitter: 0.3, random: () => 0.999 });
    await cache.getOrLoad("1", async () => "x");
    const pttl = await client.pttl(cache.keyFor("1"));
    // ttl × (1 − 0.3 × 0.999) = 420 180 ms
    expect(
      pttl,
      "the TTL is the staleness you promised; jitter may only make entries expire earlier",
    ).toBeLessThanOrEqual(420_181);
    expect(pttl).toBeGreaterThan(420_180 - SLACK_MS);
  });

  it("lets one call override the TTL", async () => {
    const client = redis.client();
    const cache = makeCache({ redis: client, ttl: 10 * MINUTE, jitter: 0 });
    await cache.getOrLoad("1", async () => "x", { ttl: 2 * MINUTE });
    const pttl = await client.pttl(cache.keyFor("1"));
    expect(pttl).toBeGreaterThan(2 * MINUTE - SLACK_MS);
    expect(pttl).toBeLessThanOrEqual(2 * MINUTE);
  });

  it("spreads the expiries of keys written together", async () => {
    const client = redis.client();
    const cache = makeCache({ redis: client, ttl: 10 * MINUTE, jitter: 0.5, random: seededRandom(3) });
    const ttls: number[] = [];
    for (let i = 0; i < 20; i++) {
      await cache.getOrLoad(`batch-${i}`, async () => i);
      ttls.push(await client.pttl(cache.keyFor(`batch-${i}`)));
    }
    for (const ttl of ttls) {
      expect(ttl).toBeGreaterThan(5 * MINUTE - SLACK_MS);
      expect(ttl).toBeLessThanOrEqual(10 * MINUTE);
    }
    const distinctSeconds = new Set(ttls.map((ttl) => Math.round(ttl / 1_000))).size;
    expect(
      distinctSeconds,
      "keys filled by one burst must not all expire in the same second (a synchronized miss storm)",
    ).toBeGreaterThanOrEqual(15);
    expect(Math.max(...ttls) - Math.min(...ttls)).toBeGreaterThan(2 * MINUTE);
  });
});

describe("CacheAside: negative caching", () => {
  it("caches a not-found as a stored sentinel with the shorter negativeTtl", async () => {
    const client = redis.client();
    const cache = makeCache({ redis: client, ttl: 10 * MINUTE, negativeTtl: 30_000 });
    const loader = counted(async () => null);
    expect(await cache.getOrLoad("ghost", loader.load)).toEqual({ value: null, source: "loader", degraded: false });
    expect(
      await client.exists(cache.keyFor("ghost")),
      "not-found must be stored (a sentinel), a missing key would just be another miss",
    ).toBe(1);
    const pttl = await client.pttl(cache.keyFor("ghost"));
    expect(pttl, "a not-found lives for negativeTtl, so a row created later shows up soon").toBeLessThanOrEqual(30_000);
    expect(pttl).toBeGreaterThan(30_000 - SLACK_MS);
    expect(
      await cache.getOrLoad("ghost", loader.load),
      "a flood of requests for an id that does not exist must not reach the database",
    ).toEqual({
      value: null,
      source: "cache",
      degraded: false,
    });
    expect(loader.calls()).toBe(1);
  });

  it("applies jitter to the negative TTL as well", async () => {
    const client = redis.client();
    const cache = makeCache({ redis: client, negativeTtl: MINUTE, jitter: 0.5, random: () => 0.5 });
    await cache.getOrLoad("ghost", async () => null);
    const pttl = await client.pttl(cache.keyFor("ghost"));
    expect(pttl).toBeLessThanOrEqual(45_001);
    expect(pttl).toBeGreaterThan(45_000 - SLACK_MS);
  });
});

describe("CacheAside: invalidation on write", () => {
  it("invalidate removes a cached value and a cached not-found", async () => {
    const cache = makeCache();
    await cache.getOrLoad("a", async () => "value");
    await cache.getOrLoad("b", async () => null);
    expect(await cache.invalidate("a")).toBe(true);
    expect(await cache.invalidate("b")).toBe(true);
    expect((await cache.getOrLoad("a", async () => "fresh")).value, "the next read reloads").toBe("fresh");
    expect(
      (await cache.getOrLoad("b", async () => "created")).value,
      "a row created after a not-found shows up once invalidated",
    ).toBe("created");
  });

  it("update writes first and invalidates after, so a read during the write cannot leave the old value cached", async () => {
    const cache = makeCache();
    let row = "old";
    await cache.getOrLoad("doc", async () => row);
    const writing = deferred();
    const commit = deferred();
    const updating = cache.update("doc", async () => {
      writing.resolve();
      await commit.promise;
      row = "new";
      return "committed";
    });
    await writing.promise;
    const duringWrite = await cache.getOrLoad("doc", async () => row);
    expect(duringWrite.value, "while the write runs, the database still says old").toBe("old");
    commit.resolve();
    expect(await updating).toEqual({ value: "committed", invalidated: true });
    expect(
      (await cache.getOrLoad("doc", async () => row)).value,
      "deleting before the write lets a concurrent reader cache the old value again; the delete must come after the write",
    ).toBe("new");
  });

  it("update invalidates even when the write throws, and passes the write's error on", async () => {
    const cache = makeCache();
    let row = "old";
    await cache.getOrLoad("doc", async () => row);
    const lostReply = new Error("connection reset after COMMIT");
    await expect(
      cache.update("doc", async () => {
        row = "new";
        throw lostReply;
      }),
    ).rejects.toBe(lostReply);
    expect(
      (await cache.getOrLoad("doc", async () => row)).value,
      "a write that threw may still have committed, so the entry must go",
    ).toBe("new");
  });
});

describe("CacheAside: Redis down or slow", () => {
  it("with Redis down, every call goes straight to the loader and reports degraded, without waiting out the timeout", async () => {
    const timeout = 4_000;
    const client = faultyClient({ host: "127.0.0.1", port: await closedPort() }, cacheRedisOptions(timeout));
    const cache = makeCache({ redis: client });
    const loader = counted(async () => ({ from: "database" }));
    const tenCalls = (async () => {
      const results = [];
      for (let i = 0; i < 10; i++) {
        const result = await cache.getOrLoad("1", loader.load).catch((error: unknown) => {
          throw new Error(
            `a Redis failure failed the read (${String(error)}): the database is still up, so answer from the loader with degraded: true`,
          );
        });
        results.push(result);
      }
      return results;
    })();
    const results = await within(
      tenCalls,
      timeout,
      "10 calls against a Redis that is down did not finish within one command timeout: with the offline queue on, each command waits in a queue for a connection that is not coming (set enableOfflineQueue: false)",
    );
    for (const result of results)
      expect(result).toEqual({ value: { from: "database" }, source: "loader", degraded: true });
    expect(loader.calls(), "with no cache, every call is served by the source of truth").toBe(10);
  });

  it("with a server that accepts connections and never answers, a call returns degraded within a bound", async () => {
    const server = await blackholeServer();
    opened.push(server);
    const timeout = 200;
    const cache = makeCache({ redis: faultyClient(server.url("redis"), cacheRedisOptions(timeout)) });
    const result = await within(
      cache.getOrLoad("1", async () => "from database"),
      timeout * 20,
      "a call against a Redis that never answers must not hang: nothing bounded the command",
    );
    expect(result).toEqual({ value: "from database", source: "loader", degraded: true });
  });

  it("when Redis stalls mid-connection, a read gives up after the command timeout, the loader answers, and hits resume once Redis does", async () => {
    const proxy = await stallableProxy();
    const timeout = 200;
    const client = faultyClient(proxy.url, cacheRedisOptions(timeout));
    await ready(client);
    const cache = makeCache({ redis: client });
    await cache.getOrLoad("1", async () => "cached");
    proxy.stall();
    const loader = counted(async () => "from database");
    const result = await within(
      cache.getOrLoad("1", loader.load),
      timeout * 20,
      "a stalled Redis held the call: the GET was sent and never answered, and only a command timeout ends that",
    );
    expect(result).toEqual({ value: "from database", source: "loader", degraded: true });
    expect(loader.calls()).toBe(1);
    proxy.resume();
    expect(await cache.getOrLoad("1", loader.load), "once Redis answers again, the same client serves hits").toEqual({
      value: "cached",
      source: "cache",
      degraded: false,
    });
  });

  it("when Redis stalls after the read, the loaded value is still returned, marked degraded", async () => {
    const proxy = await stallableProxy();
    const timeout = 200;
    const client = faultyClient(proxy.url, cacheRedisOptions(timeout));
    await ready(client);
    const cache = makeCache({ redis: client });
    const result = await within(
      cache.getOrLoad("2", async () => {
        proxy.stall();
        return "loaded";
      }),
      timeout * 20,
      "the write-back to a stalled Redis must be bounded too",
    );
    proxy.resume();
    expect(result, "a failed write-back loses nothing the caller needs: it still gets the value").toEqual({
      value: "loaded",
      source: "loader",
      degraded: true,
    });
  });

  it("reconnects on its own after the connection drops, and serves hits again", async () => {
    const proxy = await stallableProxy();
    const client = faultyClient(proxy.url, cacheRedisOptions(200));
    await ready(client);
    const cache = makeCache({ redis: client });
    await cache.getOrLoad("1", async () => "cached");
    proxy.drop();
    await within(once(client, "close"), 5_000, "the client did not notice the dropped connection");
    await within(
      once(client, "ready"),
      10_000,
      "after a Redis restart the client must reconnect by itself: a retryStrategy that gives up leaves the app degraded until it is restarted",
    );
    expect(await cache.getOrLoad("1", async () => "from database")).toEqual({
      value: "cached",
      source: "cache",
      degraded: false,
    });
  });

  it("update reports invalidated: false when Redis is down, without failing the write", async () => {
    const client = faultyClient({ host: "127.0.0.1", port: await closedPort() }, cacheRedisOptions(4_000));
    const cache = makeCache({ redis: client });
    const writes = counted(async () => "written");
    const result = await within(cache.update("1", writes.load), 4_000, "update hung on a Redis that is down");
    expect(result, "the write happened; failing it now would invite a retry that writes twice").toEqual({
      value: "written",
      invalidated: false,
    });
    expect(writes.calls()).toBe(1);
    expect(await cache.invalidate("1")).toBe(false);
  });
});
