import { once } from "node:events";
import { manualClock } from "#fixtures/clock";
import { seededRandom } from "#fixtures/random";
import { useRedis } from "#fixtures/redis";
import type { Redis } from "ioredis";
import { beforeEach, describe, expect, it } from "vitest";
import { LockWaitTimeoutError, StampedeProtectedCache, type StampedeOptions, lockKeyFor } from "../src/stampede-lock";
import { XFetchCache, shouldRecomputeEarly } from "../src/xfetch";

const redis = useRedis();

// Every test works on its own key, so a lock or value left by one test never meets another.
let key = "";
let tests = 0;
beforeEach(() => {
  key = `product:${++tests}`;
});

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A loader that says when it starts and finishes only when the test lets it. */
function gatedLoader<T>(value: T) {
  const started = deferred();
  const gate = deferred<T>();
  let calls = 0;
  return {
    load: async () => {
      calls++;
      started.resolve();
      return gate.promise;
    },
    started: started.promise,
    finish: () => gate.resolve(value),
    fail: (error: Error) => gate.reject(error),
    calls: () => calls,
  };
}

function instance(overrides: Partial<StampedeOptions> = {}, client: Redis = redis.client()): StampedeProtectedCache {
  return new StampedeProtectedCache({
    redis: client,
    ttl: 60_000,
    lockTtl: 10_000,
    waitTimeout: 10_000,
    pollInterval: 10,
    ...overrides,
  });
}

async function ready(client: Redis): Promise<Redis> {
  if (client.status !== "ready") await once(client, "ready");
  return client;
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

interface Sent {
  name: string;
  args: string[];
}

/**
 * Records every command a client sends from now on. `intercept` may replace a command's
 * reply promise, which lets a test run something between a command's reply and the moment
 * the code under test sees it.
 */
function recordCommands(client: Redis, intercept?: (sent: Sent, reply: Promise<unknown>) => Promise<unknown>): Sent[] {
  const log: Sent[] = [];
  const send = client.sendCommand.bind(client);
  client.sendCommand = ((command: { name: string; args: unknown[] }, stream?: unknown) => {
    const sent = { name: command.name.toLowerCase(), args: command.args.map((arg) => String(arg)) };
    log.push(sent);
    const reply = send(command as never, stream as never) as Promise<unknown>;
    return intercept ? intercept(sent, reply) : reply;
  }) as typeof client.sendCommand;
  return log;
}

describe("StampedeProtectedCache: one load for a stampede", () => {
  it("turns 200 concurrent misses spread over four app instances into exactly one loader call", async () => {
    const clients = await Promise.all([0, 1, 2, 3].map(() => ready(redis.client())));
    const instances = clients.map((client) => instance({}, client));
    const loader = gatedLoader({ price: 42 });
    const results = Array.from({ length: 200 }, (_, i) => instances[i % 4]!.getOrLoad(key, loader.load));
    await loader.started;
    // Two round trips on every connection: each instance's first commands have been answered.
    for (let round = 0; round < 2; round++) await Promise.all(clients.map((client) => client.ping()));
    loader.finish();
    const values = await within(Promise.all(results), 10_000, "the waiters never got the loaded value");
    expect(
      values.every((value) => JSON.stringify(value) === '{"price":42}'),
      "every caller gets the one loaded value",
    ).toBe(true);
    expect(
      loader.calls(),
      "a stampede of misses must reach the database once: four instances need a shared (Redis) lock, not only an in-process one",
    ).toBe(1);
  });

  it("lets concurrent callers in one instance share one load instead of each polling Redis", async () => {
    const client = await ready(redis.client());
    const cache = instance({}, client);
    const sent = recordCommands(client);
    const loader = gatedLoader("shared");
    const results = Array.from({ length: 50 }, () => cache.getOrLoad(key, loader.load));
    await loader.started;
    loader.finish();
    expect(await Promise.all(results)).toEqual(Array(50).fill("shared"));
    // One load's commands: a read, the lock, a second read, the write, the release.
    expect(
      sent.length,
      `50 callers sent ${sent.length} commands: 49 callers in the same process can await the first one's promise; ` +
        "each of them reading and locking Redis on its own is load for nothing",
    ).toBeLessThanOrEqual(8);
  });

  it("does not load again when another instance stored the value between this one's miss and its lock", async () => {
    const client = await ready(redis.client());
    const other = redis.client();
    const cache = instance({}, client);
    const valueKey = redis.prefix + key;
    let missed = false;
    // Right after this instance reads a miss, and before it sees the reply, another instance
    // finishes its load: it stores the value and releases its lock.
    recordCommands(client, (sent, reply) => {
      if (missed || sent.name !== "get" || sent.args[0] !== valueKey) return reply;
      missed = true;
      return reply.then(async (value) => {
        await other.set(key, JSON.stringify("from another instance"), "PX", 60_000);
        return value;
      });
    });
    const loader = gatedLoader("loaded twice");
    const result = cache.getOrLoad(key, loader.load);
    loader.finish();
    expect(await result, "after winning the lock, read the value once more: it may have arrived meanwhile").toBe(
      "from another instance",
    );
    expect(loader.calls(), "a second load of the same value is exactly what the lock is for").toBe(0);
    expect(missed, "this instance reads the value with a GET of the key").toBe(true);
  });

  it("serves a cached value with one GET and no lock", async () => {
    const client = await ready(redis.client());
    const cache = instance({}, client);
    await cache.getOrLoad(key, async () => "cached");
    const sent = recordCommands(client);
    const loader = gatedLoader("unused");
    expect(await cache.getOrLoad(key, loader.load)).toBe("cached");
    expect(
      sent.map((c) => c.name),
      "the hit path must stay one command, one round trip, and take no lock",
    ).toHaveLength(1);
    expect(loader.calls()).toBe(0);
  });
});

describe("StampedeProtectedCache: values it cannot read", () => {
  it("treats a stored value that does not parse as a miss: it loads, replaces it, and serves it after", async () => {
    const client = redis.client();
    const cache = instance();
    for (const [index, garbage] of ["{not json", "", "undefined"].entries()) {
      const name = `${key}:garbage-${index}`;
      await client.set(name, garbage, "PX", 60_000);
      const loader = gatedLoader({ fresh: index });
      const loading = cache.getOrLoad(name, loader.load);
      loader.finish();
      const outcome = await loading.then(
        (value) => ({ value }),
        (error: unknown) => ({ error: String(error) }),
      );
      expect(
        outcome,
        `stored ${JSON.stringify(garbage)}: a value nobody can read is a miss, not an error for every reader until the TTL ends`,
      ).toEqual({
        value: { fresh: index },
      });
      expect(await cache.getOrLoad(name, async () => "not again"), "and the garbage was replaced").toEqual({
        fresh: index,
      });
    }
  });

  it("hands a loaded undefined to its callers without caching it, so the next read still works", async () => {
    const client = redis.client();
    const cache = instance();
    expect(await cache.getOrLoad(key, async () => undefined), "the callers get what the loader gave").toBeUndefined();
    expect(
      await client.exists(key),
      "JSON cannot hold undefined, so nothing is stored for it (not even an empty string)",
    ).toBe(0);
    expect(
      await cache.getOrLoad(key, async () => "loaded again"),
      'JSON has no undefined: JSON.stringify(undefined) stored as "" breaks every later read; do not cache it',
    ).toBe("loaded again");
  });
});

describe("StampedeProtectedCache: the lock", () => {
  it("holds the lock while loading, with a TTL no longer than lockTtl, and releases it after", async () => {
    const client = redis.client();
    const cache = instance({ lockTtl: 5_000 });
    const loader = gatedLoader("v");
    const loading = cache.getOrLoad(key, loader.load);
    await loader.started;
    expect(await client.get(lockKeyFor(key)), "the loader runs only while this instance holds the lock").toBeTruthy();
    const pttl = await client.pttl(lockKeyFor(key));
    expect(pttl, "a lock without a TTL (PX) is held forever by a holder that crashed").toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(5_000);
    loader.finish();
    expect(await loading).toBe("v");
    expect(await client.exists(lockKeyFor(key)), "a finished load releases its lock at once").toBe(0);
    expect(JSON.parse((await client.get(key))!), "the value is stored under the key itself, as JSON").toBe("v");
  });

  it("locks each key on its own: a slow load of one key does not hold up a load of another", async () => {
    const cache = instance();
    const other = instance();
    const slow = gatedLoader("slow");
    const slowLoad = cache.getOrLoad(`${key}:a`, slow.load);
    await slow.started;
    const fast = gatedLoader("fast");
    const fastLoad = other.getOrLoad(`${key}:b`, fast.load);
    await within(
      fast.started,
      5_000,
      "the load of key b waited for key a's lock: the lock key must name the key it guards (lockKeyFor(key))",
    );
    fast.finish();
    expect(await fastLoad).toBe("fast");
    slow.finish();
    expect(await slowLoad).toBe("slow");
  });

  it("takes a different random token for every acquisition", async () => {
    const client = redis.client();
    const cache = instance();
    const tokens = new Set<string | null>();
    for (let i = 0; i < 5; i++) {
      const loader = gatedLoader(i);
      const loading = cache.getOrLoad(`${key}:${i}`, loader.load);
      await loader.started;
      tokens.add(await client.get(lockKeyFor(`${key}:${i}`)));
      loader.finish();
      await loading;
    }
    expect(tokens.has(null)).toBe(false);
    expect(
      tokens.size,
      "the token is what tells one holder's lock from the next one's; a constant token tells nothing",
    ).toBe(5);
  });

  it("does not delete the next holder's lock when its own lock expired mid-load", async () => {
    const client = redis.client();
    const a = instance({ lockTtl: 300 });
    const b = instance({ lockTtl: 10_000 });
    const loadA = gatedLoader("from A");
    const loadB = gatedLoader("from B");
    const fromA = a.getOrLoad(key, loadA.load);
    await loadA.started;
    const tokenA = await client.get(lockKeyFor(key));
    const fromB = b.getOrLoad(key, loadB.load);
    // A's lock runs out while A is still loading; B, waiting, takes the lock and loads.
    await within(loadB.started, 10_000, "B never took over the lock after A's lock expired");
    const tokenB = await client.get(lockKeyFor(key));
    expect(tokenB, "B holds the lock now, with its own token").toBeTruthy();
    expect(tokenB).not.toBe(tokenA);
    loadA.finish();
    expect(await fromA).toBe("from A");
    expect(
      await client.get(lockKeyFor(key)),
      "A's release deleted B's lock: release must compare the token and delete atomically",
    ).toBe(tokenB);
    loadB.finish();
    await fromB;
    expect(await client.exists(lockKeyFor(key)), "B releases its own lock").toBe(0);
  });

  it("never deletes a lock that changed hands between reading it and deleting it", async () => {
    const client = await ready(redis.client());
    const intruder = redis.client();
    const cache = instance({}, client);
    const loader = gatedLoader("v");
    const loading = cache.getOrLoad(key, loader.load);
    await loader.started;
    const lockKey = redis.prefix + lockKeyFor(key);
    let readTheLock = false;
    // If the release reads the lock from the client, another instance takes the lock right
    // after that read and before the code under test sees the reply: the worst moment.
    recordCommands(client, (sent, reply) => {
      if (readTheLock || sent.name !== "get" || sent.args[0] !== lockKey) return reply;
      readTheLock = true;
      return reply.then(async (value) => {
        await intruder.set(lockKeyFor(key), "intruder-token", "PX", 60_000);
        return value;
      });
    });
    loader.finish();
    expect(await loading).toBe("v");
    if (readTheLock) {
      expect(
        await client.get(lockKeyFor(key)),
        "GET then DEL from the client deleted another holder's lock: compare and delete in one Lua script",
      ).toBe("intruder-token");
    } else {
      expect(await client.exists(lockKeyFor(key)), "the holder's own lock is released").toBe(0);
    }
  });
});

describe("StampedeProtectedCache: waiters", () => {
  it("gives up with LockWaitTimeoutError after waitTimeout while another instance is still loading", async () => {
    const holder = instance();
    const waiter = instance({ waitTimeout: 200 });
    const slow = gatedLoader("slow");
    const holding = holder.getOrLoad(key, slow.load);
    await slow.started;
    const waiterLoader = gatedLoader("not allowed");
    const error = await within(
      waiter.getOrLoad(key, waiterLoader.load),
      10_000,
      "the waiter waited far past its waitTimeout",
    ).catch((e: unknown) => e);
    expect(error, "a waiter's wait is bounded: it ends with LockWaitTimeoutError").toBeInstanceOf(LockWaitTimeoutError);
    expect((error as LockWaitTimeoutError).code).toBe("ERR_LOCK_WAIT_TIMEOUT");
    expect((error as LockWaitTimeoutError).name).toBe("LockWaitTimeoutError");
    expect(waiterLoader.calls(), "while another instance holds the lock, a waiter must not load").toBe(0);
    slow.finish();
    expect(await holding).toBe("slow");
  });

  it("polls about every pollInterval, not in a busy loop", async () => {
    const holder = instance();
    const waiterClient = await ready(redis.client());
    const waiter = instance({ waitTimeout: 300, pollInterval: 50 }, waiterClient);
    const slow = gatedLoader("slow");
    const holding = holder.getOrLoad(key, slow.load);
    await slow.started;
    const sent = recordCommands(waiterClient);
    await expect(waiter.getOrLoad(key, async () => "not allowed")).rejects.toBeInstanceOf(LockWaitTimeoutError);
    // 300 ms at one look per ~50 ms is about 6 looks of 2 commands; a loop without a pause
    // sends thousands, all load on the Redis that every instance shares.
    expect(sent.length, `the waiter sent ${sent.length} commands in 300 ms`).toBeLessThan(60);
    expect(sent.length, "it does look more than once").toBeGreaterThan(2);
    slow.finish();
    await holding;
  });

  it("takes over at once when the holder's loader fails, instead of waiting out the lock TTL", async () => {
    const holder = instance({ lockTtl: 60_000 });
    const waiter = instance({ lockTtl: 60_000, waitTimeout: 60_000 });
    const failing = gatedLoader("never");
    const holding = holder.getOrLoad(key, failing.load);
    await failing.started;
    const waiterLoader = gatedLoader("from the waiter");
    const waiting = waiter.getOrLoad(key, waiterLoader.load);
    const failure = new Error("database timeout");
    failing.fail(failure);
    await expect(holding).rejects.toBe(failure);
    waiterLoader.finish();
    expect(
      await within(
        waiting,
        10_000,
        "the waiter is still waiting: a failed load must release its lock, not leave it to its 60 s TTL",
      ),
    ).toBe("from the waiter");
  });
});

describe("StampedeProtectedCache: loader errors", () => {
  it("releases the lock at once, passes the error to the caller, and caches nothing", async () => {
    const client = redis.client();
    const cache = instance({ lockTtl: 60_000 });
    const failure = new Error("boom");
    await expect(cache.getOrLoad(key, () => Promise.reject(failure))).rejects.toBe(failure);
    expect(await client.exists(lockKeyFor(key)), "a failed load must not keep the lock").toBe(0);
    expect(await client.exists(key), "an error is not a value").toBe(0);
    const retry = gatedLoader("recovered");
    const again = cache.getOrLoad(key, retry.load);
    retry.finish();
    expect(await again, "the next call loads again").toBe("recovered");
  });

  it("passes the same error to every caller that shared the failed load", async () => {
    const cache = instance();
    const loader = gatedLoader("never");
    const callers = Array.from({ length: 5 }, () => cache.getOrLoad(key, loader.load));
    await loader.started;
    const failure = new Error("shared failure");
    loader.fail(failure);
    for (const caller of callers) await expect(caller).rejects.toBe(failure);
    expect(loader.calls()).toBe(1);
  });
});

describe("StampedeProtectedCache: configuration", () => {
  it("rejects durations that are not positive numbers", () => {
    for (const bad of [
      { ttl: 0 },
      { lockTtl: -1 },
      { waitTimeout: Number.NaN },
      { pollInterval: 0 },
      { lockTtl: Number.POSITIVE_INFINITY },
    ]) {
      expect(() => instance(bad), JSON.stringify(bad)).toThrow(RangeError);
    }
  });
});

describe("XFetch: the early-recompute decision", () => {
  // -ln(0.5) = 0.693…, so with delta 1000 ms and beta 1 the lead is 693.1 ms.
  const half = () => 0.5;

  it("recomputes once now + delta × beta × −ln(random()) reaches the expiry", () => {
    const expiresAt = 1_000_000;
    expect(
      shouldRecomputeEarly({ now: expiresAt - 694, expiresAt, delta: 1_000, beta: 1, random: half }),
      "694 ms left, lead 693.1 ms",
    ).toBe(false);
    expect(
      shouldRecomputeEarly({ now: expiresAt - 693, expiresAt, delta: 1_000, beta: 1, random: half }),
      "693 ms left, lead 693.1 ms",
    ).toBe(true);
  });

  it("scales the lead with the recompute time and with beta", () => {
    const expiresAt = 1_000_000;
    const now = expiresAt - 1_300;
    expect(
      shouldRecomputeEarly({ now, expiresAt, delta: 2_000, beta: 1, random: half }),
      "a 2 s recompute: lead 1386 ms",
    ).toBe(true);
    expect(
      shouldRecomputeEarly({ now, expiresAt, delta: 1_000, beta: 2, random: half }),
      "beta 2 doubles the lead",
    ).toBe(true);
    expect(
      shouldRecomputeEarly({ now, expiresAt, delta: 1_000, beta: 1, random: half }),
      "lead 693 ms < 1300 ms left",
    ).toBe(false);
  });

  it("never recomputes early with beta 0, but does at expiry", () => {
    const expiresAt = 1_000_000;
    expect(
      shouldRecomputeEarly({ now: expiresAt - 1, expiresAt, delta: 5_000, beta: 0, random: () => 0.01 }),
      "beta 0: no lead at all",
    ).toBe(false);
    expect(
      shouldRecomputeEarly({ now: expiresAt, expiresAt, delta: 5_000, beta: 0, random: () => 0.01 }),
      "at the expiry itself the entry must be recomputed: the test is now - lead >= expiresAt, with >=",
    ).toBe(true);
  });

  it("becomes more likely as expiry nears", () => {
    const random = seededRandom(5);
    const expiresAt = 1_000_000;
    const rate = (left: number) => {
      let yes = 0;
      for (let i = 0; i < 2_000; i++)
        if (shouldRecomputeEarly({ now: expiresAt - left, expiresAt, delta: 1_000, beta: 1, random })) yes++;
      return yes / 2_000;
    };
    // P(recompute) = exp(-left / (delta × beta)): 0.05 at 3 s left, 0.37 at 1 s, 0.90 at 0.1 s.
    expect(rate(3_000)).toBeLessThan(0.1);
    expect(rate(1_000)).toBeGreaterThan(0.3);
    expect(rate(1_000)).toBeLessThan(0.45);
    expect(rate(100)).toBeGreaterThan(0.85);
  });
});

describe("XFetchCache: probabilistic early refresh", () => {
  it("loads on a miss, then serves hits with one GET, the key expiring in Redis after the TTL", async () => {
    const client = await ready(redis.client());
    const clock = manualClock();
    const cache = new XFetchCache({ redis: client, ttl: 60_000, clock, random: () => 0.99 });
    expect(await cache.get(key, async () => "v1")).toEqual({ value: "v1", source: "miss" });
    const pttl = await client.pttl(key);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(60_000);
    const sent = recordCommands(client);
    expect(await cache.get(key, async () => "v2")).toEqual({ value: "v1", source: "hit" });
    expect(
      sent.map((c) => c.name),
      "value, delta and expiry belong in one entry: a hit is one command",
    ).toHaveLength(1);
  });

  it("treats an entry it cannot read as a miss", async () => {
    const client = redis.client();
    const cache = new XFetchCache({ redis: client, ttl: 60_000, clock: manualClock(), random: () => 0.99 });
    const later = manualClock().now() + 3_600_000;
    const garbage = [
      "not json",
      "{}",
      '{"value":1}',
      "null",
      `{"value":1,"delta":5}`,
      `{"value":1,"expiresAt":${later}}`,
    ];
    for (const [index, stored] of garbage.entries()) {
      await client.set(`${key}:${index}`, stored, "PX", 60_000);
      expect(await cache.get(`${key}:${index}`, async () => "reloaded"), `stored ${stored}`).toEqual({
        value: "reloaded",
        source: "miss",
      });
    }
  });

  it("rejects a TTL or a beta that makes no sense", () => {
    const client = redis.client();
    for (const bad of [{ ttl: 0 }, { ttl: 1.5 }, { ttl: 60_000, beta: -1 }, { ttl: 60_000, beta: Number.NaN }]) {
      expect(() => new XFetchCache({ redis: client, ...bad }), JSON.stringify(bad)).toThrow(RangeError);
    }
    expect(
      () => new XFetchCache({ redis: client, ttl: 60_000, beta: 0 }),
      "beta 0 (never early) is allowed",
    ).not.toThrow();
  });

  it("treats an entry at or past its expiry as a miss", async () => {
    const clock = manualClock();
    const cache = new XFetchCache({ redis: redis.client(), ttl: 60_000, clock, random: () => 0.99 });
    await cache.get(key, async () => "v1");
    clock.advance(60_000);
    expect(await cache.get(key, async () => "v2"), "the clock, not only Redis, decides expiry").toEqual({
      value: "v2",
      source: "miss",
    });
  });

  it("measures the recompute time on the clock and refreshes earlier for a slower recompute", async () => {
    const ttl = 60_000;
    const left = 1_500; // random() 0.5: a 1 s recompute leads by 693 ms, a 3 s one by 2079 ms
    const run = async (name: string, recomputeMs: number) => {
      const clock = manualClock();
      const cache = new XFetchCache({ redis: redis.client(), ttl, clock, random: () => 0.5 });
      await cache.get(name, async () => {
        clock.advance(recomputeMs);
        return "first";
      });
      clock.advance(ttl - left);
      return (await cache.get(name, async () => "second")).source;
    };
    expect(await run(`${key}:fast`, 1_000), "1500 ms left is more than a 1 s recompute's lead").toBe("hit");
    expect(
      await run(`${key}:slow`, 3_000),
      "delta is how long the loader took on the clock; 3 s leads by 2079 ms",
    ).toBe("early-refresh");
  });

  it("refreshes about once per TTL window and lets no reader meet an expired entry", async () => {
    const ttl = 60_000;
    const recomputeMs = 6_000;
    const windows = 10;
    const clock = manualClock();
    const cache = new XFetchCache({
      redis: await ready(redis.client()),
      ttl,
      beta: 1,
      clock,
      random: seededRandom(2015),
    });
    let loads = 0;
    const sources = { hit: 0, "early-refresh": 0, miss: 0 };
    const end = clock.now() + windows * ttl;
    while (clock.now() < end) {
      const { source } = await cache.get(key, async () => {
        loads++;
        clock.advance(recomputeMs);
        return loads;
      });
      sources[source]++;
      clock.advance(600); // a steady reader every 600 ms
    }
    expect(sources.miss, "only the very first read may miss; XFetch refreshes before expiry").toBe(1);
    expect(sources["early-refresh"], "without early refresh every window ends in a miss").toBeGreaterThan(0);
    expect(
      loads,
      `${loads} loads over ${windows} TTL windows: about one per window, not one per read`,
    ).toBeGreaterThanOrEqual(windows);
    expect(loads).toBeLessThanOrEqual(windows * 1.7);
  });
});
