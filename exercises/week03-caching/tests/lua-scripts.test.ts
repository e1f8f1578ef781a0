import { once } from "node:events";
import { useRedis } from "#fixtures/redis";
import type { Redis } from "ioredis";
import { beforeEach, describe, expect, it } from "vitest";
import { RedisScript } from "../src/redis-script";
import { VersionedCache, type Versioned } from "../src/versioned-cache";

const redis = useRedis();

// Every test works on its own key.
let key = "";
let tests = 0;
beforeEach(() => {
  key = `article:${++tests}`;
});

const SET_AND_ECHO = `redis.call("SET", KEYS[1], ARGV[1])
return redis.call("GET", KEYS[1])`;

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** A loader that says when it has read the source, and returns only when the test lets it. */
function gatedLoader<T>(entry: Versioned<T>) {
  const started = deferred();
  const gate = deferred();
  return {
    load: async () => {
      started.resolve();
      await gate.promise;
      return entry;
    },
    started: started.promise,
    finish: () => gate.resolve(),
  };
}

async function ready(client: Redis): Promise<Redis> {
  if (client.status !== "ready") await once(client, "ready");
  return client;
}

interface Sent {
  name: string;
  /** The error the command was answered with, once it has been answered. */
  error?: string;
}

/** Records every command a client sends from now on, with the error reply it got, if any. */
function recordCommands(client: Redis): Sent[] {
  const log: Sent[] = [];
  const send = client.sendCommand.bind(client);
  client.sendCommand = ((command: { name: string }, stream?: unknown) => {
    const sent: Sent = { name: command.name.toLowerCase() };
    log.push(sent);
    const reply = send(command as never, stream as never) as Promise<unknown>;
    reply.catch((error: Error) => (sent.error = error.message));
    return reply;
  }) as typeof client.sendCommand;
  return log;
}

/**
 * Runs `action` (once) right after the first successful reply `client` receives from now on,
 * before the code that sent the command sees that reply: another client's write lands
 * exactly between this client's read and whatever it does next.
 */
function betweenReplyAndNextStep(client: Redis, action: () => Promise<unknown>): { happened: () => boolean } {
  let done = false;
  const send = client.sendCommand.bind(client);
  client.sendCommand = ((command: unknown, stream?: unknown) => {
    const reply = send(command as never, stream as never) as Promise<unknown>;
    return reply.then(async (value) => {
      if (!done) {
        done = true;
        await action();
      }
      return value;
    });
  }) as typeof client.sendCommand;
  return { happened: () => done };
}

/** EVAL (the body) may follow only an EVALSHA that Redis answered with NOSCRIPT. */
function bodiesSentWithoutNoscript(log: Sent[]): number {
  return log.filter(
    (sent, i) => sent.name === "eval" && !(log[i - 1]?.name === "evalsha" && log[i - 1]?.error?.startsWith("NOSCRIPT")),
  ).length;
}

function makeCache(client: Redis = redis.client()): VersionedCache<string> {
  return new VersionedCache<string>({ redis: client, ttl: 60_000, tombstoneTtl: 30_000 });
}

describe("RedisScript: EVALSHA with a NOSCRIPT fallback", () => {
  it("names a script by the SHA1 that Redis gives it", async () => {
    const client = redis.client();
    for (const source of [SET_AND_ECHO, "return 'ünïcödé ✓' -- non-ASCII bytes count as UTF-8"]) {
      expect(new RedisScript(source).sha, "EVALSHA finds a script only by the SHA1 of its exact bytes").toBe(
        await client.script("LOAD", source),
      );
    }
  });

  it("runs a script with its keys prefixed like any other key, and its arguments", async () => {
    const client = redis.client();
    const script = new RedisScript(SET_AND_ECHO);
    expect(await script.run(client, [key], ["hello"])).toBe("hello");
    expect(await client.get(key), "keys passed as KEYS get the client's keyPrefix; keys hidden in ARGV do not").toBe(
      "hello",
    );
    expect(
      await new RedisScript("return {#KEYS, #ARGV}").run(client, []),
      "no keys and no arguments by default",
    ).toEqual([0, 0]);
  });

  it("sends EVALSHA, not the script's body, once Redis knows the script", async () => {
    const client = await ready(redis.client());
    const script = new RedisScript(SET_AND_ECHO);
    await script.run(client, [key], ["warm-up"]);
    const log = recordCommands(client);
    for (let i = 0; i < 20; i++) expect(await script.run(client, [key], [`v${i}`])).toBe(`v${i}`);
    expect(log.filter((sent) => sent.name === "evalsha").length, "every call tries EVALSHA first").toBe(20);
    // Another test run on this Redis may flush scripts at any moment; one fallback is fine.
    expect(
      log.filter((sent) => sent.name === "eval").length,
      "the body crosses the network only when Redis lost the script",
    ).toBeLessThanOrEqual(2);
  });

  it("still succeeds after SCRIPT FLUSH, and goes back to EVALSHA after", async () => {
    const client = await ready(redis.client());
    const script = new RedisScript(SET_AND_ECHO);
    await script.run(client, [key], ["before"]);
    await client.script("FLUSH");
    const log = recordCommands(client);
    expect(
      await script.run(client, [key], ["after flush"]),
      "a flush, restart or failover forgets every script; the next call must still work",
    ).toBe("after flush");
    expect(log[0]?.name, "it tries EVALSHA first").toBe("evalsha");
    const later = recordCommands(client);
    expect(await script.run(client, [key], ["later"])).toBe("later");
    expect(
      later.map((sent) => sent.name),
      "the fallback loaded the script again",
    ).toContain("evalsha");
    expect(bodiesSentWithoutNoscript([...log, ...later])).toBe(0);
  });

  it("lets twenty concurrent runs right after SCRIPT FLUSH all succeed", async () => {
    const client = await ready(redis.client());
    const script = new RedisScript(`return redis.call("INCR", KEYS[1])`);
    await client.script("FLUSH");
    const results = await Promise.all(Array.from({ length: 20 }, () => script.run(client, [key])));
    expect([...results].sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it("passes a script's own error through, without sending the body again", async () => {
    const client = await ready(redis.client());
    const source = `return redis.error_reply("ERR stock cannot go below zero")`;
    const script = new RedisScript(source);
    await client.script("LOAD", source);
    const log = recordCommands(client);
    await expect(script.run(client, [key]), "the script's error reaches the caller").rejects.toThrow(
      /stock cannot go below zero/,
    );
    expect(
      bodiesSentWithoutNoscript(log),
      "only NOSCRIPT calls for the body; retrying a failing script runs it twice",
    ).toBe(0);
    expect(log.filter((sent) => sent.name === "evalsha").length).toBe(1);
  });
});

describe("VersionedCache: compare-and-set on versions", () => {
  it("stores an entry and reads it back with its version", async () => {
    const cache = makeCache();
    expect(await cache.get(key)).toBeNull();
    expect(await cache.put(key, { value: "draft", version: 1 })).toBe(true);
    expect(await cache.get(key)).toEqual({ value: "draft", version: 1 });
  });

  it("refuses to replace a newer cached version with an older one", async () => {
    const cache = makeCache();
    await cache.put(key, { value: "v2", version: 2 });
    expect(await cache.put(key, { value: "v1", version: 1 }), "an older version is stale by definition").toBe(false);
    expect(await cache.get(key)).toEqual({ value: "v2", version: 2 });
  });

  it("replaces an older cached version with a newer one", async () => {
    const cache = makeCache();
    await cache.put(key, { value: "v1", version: 1 });
    expect(await cache.put(key, { value: "v3", version: 3 })).toBe(true);
    expect(await cache.get(key)).toEqual({ value: "v3", version: 3 });
  });

  it("does not rewrite an entry with the version it already holds", async () => {
    const cache = makeCache();
    await cache.put(key, { value: "same", version: 4 });
    expect(
      await cache.put(key, { value: "same", version: 4 }),
      "a version names one value; storing it again changes nothing",
    ).toBe(false);
  });

  it("stores every entry under its key with the TTL", async () => {
    const client = redis.client();
    await makeCache(client).put(key, { value: "x", version: 1 });
    const pttl = await client.pttl(key);
    expect(pttl, "every cache entry needs a TTL: it bounds the damage of any bug").toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(60_000);
  });

  it("writes with a single script call, so that no other client runs between the compare and the set", async () => {
    const client = await ready(redis.client());
    const cache = makeCache(client);
    await cache.put(key, { value: "v1", version: 1 });
    const log = recordCommands(client);
    await cache.put(key, { value: "v2", version: 2 });
    expect(
      log.filter((sent) => sent.name !== "eval" && sent.name !== "evalsha").map((sent) => sent.name),
      "reading the version from the client and writing after it leaves a gap another writer can use",
    ).toEqual([]);
    expect(log.filter((sent) => sent.name === "evalsha").length).toBe(1);
  });

  it("never lets a put overwrite a newer version that another writer stored between its compare and its set", async () => {
    const slowClient = await ready(redis.client());
    const slow = makeCache(slowClient);
    const other = makeCache(await ready(redis.client()));
    await other.put(key, { value: "v1", version: 1 });
    const race = betweenReplyAndNextStep(slowClient, () => other.put(key, { value: "v3", version: 3 }));

    await slow.put(key, { value: "v2", version: 2 });

    expect(race.happened(), "the other writer got its turn right after this put's first reply").toBe(true);
    expect(
      await other.get(key),
      "v2 replaced v3: the put read the version, another writer stored v3, then the put wrote v2 over it. " +
        "Compare and set in one script, so that nothing can run between them (MULTI only batches the writes, it checks nothing)",
    ).toEqual({ value: "v3", version: 3 });
  });

  it("never lets an invalidation wipe a newer version that another writer stored between its compare and its write", async () => {
    const slowClient = await ready(redis.client());
    const slow = makeCache(slowClient);
    const other = makeCache(await ready(redis.client()));
    await other.put(key, { value: "v1", version: 1 });
    const race = betweenReplyAndNextStep(slowClient, () => other.put(key, { value: "v3", version: 3 }));

    await slow.invalidate(key, 2);

    expect(race.happened()).toBe(true);
    expect(
      await other.get(key),
      "the invalidation of v2 buried v3 under a tombstone: compare and write in one script",
    ).toEqual({ value: "v3", version: 3 });
  });

  it("accepts version 0 as the first version", async () => {
    const cache = makeCache();
    expect(await cache.put(key, { value: "initial", version: 0 })).toBe(true);
    expect(await cache.get(key)).toEqual({ value: "initial", version: 0 });
  });

  it("rejects TTLs that are not positive whole milliseconds", () => {
    for (const bad of [{ ttl: 0 }, { ttl: 1.5 }, { tombstoneTtl: -1 }, { tombstoneTtl: Number.NaN }]) {
      expect(
        () => new VersionedCache({ redis: redis.client(), ttl: 60_000, tombstoneTtl: 30_000, ...bad }),
        JSON.stringify(bad),
      ).toThrow(RangeError);
    }
  });

  it("rejects a version that is not a non-negative safe integer", async () => {
    const cache = makeCache();
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 60]) {
      await expect(cache.put(key, { value: "x", version: bad }), `version ${bad}`).rejects.toThrow(RangeError);
      await expect(cache.invalidate(key, bad), `version ${bad}`).rejects.toThrow(RangeError);
    }
  });
});

describe("VersionedCache: invalidation that remembers the version", () => {
  it("after invalidate(key, 2), get reports a miss and a put of version 1 is refused", async () => {
    const cache = makeCache();
    await cache.put(key, { value: "v1", version: 1 });
    expect(await cache.invalidate(key, 2)).toBe(true);
    expect(await cache.get(key), "the invalidated value is gone").toBeNull();
    expect(await cache.put(key, { value: "v1", version: 1 }), "the tombstone remembers that v2 was committed").toBe(
      false,
    );
    expect(await cache.get(key)).toBeNull();
  });

  it("accepts a put of the invalidated version, or a newer one", async () => {
    const cache = makeCache();
    await cache.invalidate(key, 2);
    expect(
      await cache.put(key, { value: "v2", version: 2 }),
      "a reader that loaded exactly the committed version may store it",
    ).toBe(true);
    expect(await cache.get(key)).toEqual({ value: "v2", version: 2 });
    await cache.invalidate(`${key}:other`, 2);
    expect(await cache.put(`${key}:other`, { value: "v5", version: 5 })).toBe(true);
  });

  it("leaves a newer cached entry alone when a late invalidation names an older version", async () => {
    const cache = makeCache();
    await cache.put(key, { value: "v3", version: 3 });
    expect(await cache.invalidate(key, 2), "the cache already holds something newer than this write").toBe(false);
    expect(await cache.get(key)).toEqual({ value: "v3", version: 3 });
  });

  it("keeps the tombstone for tombstoneTtl, not for the value's TTL", async () => {
    const client = redis.client();
    const cache = makeCache(client);
    await cache.put(key, { value: "v1", version: 1 });
    await cache.invalidate(key, 2);
    const pttl = await client.pttl(key);
    expect(pttl, "a tombstone without a TTL would live forever").toBeGreaterThan(0);
    expect(pttl, "tombstoneTtl is 30 s, the value TTL 60 s").toBeLessThanOrEqual(30_000);
  });
});

describe("VersionedCache: the slow-reader race", () => {
  it("a reader that loaded v1 before a writer committed v2 and invalidated cannot write v1 back", async () => {
    const cache = makeCache();
    let row: Versioned<string> = { value: "v1", version: 1 };
    // The reader misses and reads v1 from the database...
    const reader = gatedLoader(row);
    const reading = cache.getOrLoad(key, reader.load);
    await reader.started;
    // ...then a writer commits v2 and invalidates, before the reader stores what it read.
    row = { value: "v2", version: 2 };
    await cache.invalidate(key, row.version);
    reader.finish();
    expect(await reading, "the reader itself still gets what it read").toEqual({ value: "v1", version: 1 });
    expect(await cache.get(key), "with a plain SET the cache would now serve v1 until its TTL ends").toBeNull();
    expect(await cache.getOrLoad(key, async () => row), "the next reader loads and caches v2").toEqual({
      value: "v2",
      version: 2,
    });
    expect(await cache.get(key)).toEqual({ value: "v2", version: 2 });
  });

  it("leaves the newer version cached when two readers finish out of order", async () => {
    const cache = makeCache();
    const older = gatedLoader({ value: "v1", version: 1 });
    const newer = gatedLoader({ value: "v2", version: 2 });
    const first = cache.getOrLoad(key, older.load);
    await older.started;
    const second = cache.getOrLoad(key, newer.load);
    await newer.started;
    newer.finish();
    await second;
    older.finish();
    await first;
    expect(await cache.get(key), "the reader that finished last had the older data").toEqual({
      value: "v2",
      version: 2,
    });
  });

  it("serves a hit without calling the loader", async () => {
    const cache = makeCache();
    await cache.put(key, { value: "cached", version: 7 });
    let calls = 0;
    const result = await cache.getOrLoad(key, async () => {
      calls++;
      return { value: "loaded", version: 8 };
    });
    expect(result).toEqual({ value: "cached", version: 7 });
    expect(calls).toBe(0);
  });

  it("keeps its guarantees after SCRIPT FLUSH", async () => {
    const client = redis.client();
    const cache = makeCache(client);
    await cache.put(key, { value: "v1", version: 1 });
    await client.script("FLUSH");
    expect(await cache.invalidate(key, 2), "the invalidate script must survive a flush").toBe(true);
    await client.script("FLUSH");
    expect(await cache.put(key, { value: "v1", version: 1 }), "and so must the put script").toBe(false);
    expect(await cache.put(key, { value: "v2", version: 2 })).toBe(true);
  });
});
