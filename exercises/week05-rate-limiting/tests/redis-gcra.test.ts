import { DEFAULT_START_MS } from "#fixtures/clock";
import { seededRandom } from "#fixtures/random";
import { useRedis } from "#fixtures/redis";
import type { Redis } from "ioredis";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RedisGcraLimiter } from "../src/redis-gcra";
import { mentions } from "#fixtures/messages";

const redis = useRedis();
const t0 = DEFAULT_START_MS;
let keySeq = 0;
/** A key no other test of this file touches. */
const freshKey = (label: string) => `${label}-${++keySeq}`;

/** Every key this file has written, with its remaining time to live in ms. */
async function storedKeys(): Promise<Map<string, number>> {
  const raw = redis.rawClient();
  const found = new Map<string, number>();
  let cursor = "0";
  do {
    const [next, keys] = await raw.scan(cursor, "MATCH", `${redis.prefix}*`, "COUNT", 1000);
    const pipeline = raw.pipeline();
    for (const key of keys) pipeline.pttl(key);
    const ttls = (await pipeline.exec()) ?? [];
    keys.forEach((key, i) => found.set(key, ttls[i]![1] as number));
    cursor = next;
  } while (cursor !== "0");
  return found;
}

/** Records every command the client sends, to count round trips per decision. */
function recordCommands(client: Redis): { name: string }[] {
  const sent: { name: string }[] = [];
  const send = client.sendCommand.bind(client);
  client.sendCommand = ((command, ...rest) => {
    sent.push(command);
    return send(command, ...rest);
  }) as Redis["sendCommand"];
  return sent;
}

describe("GCRA arithmetic, with time passed in", () => {
  it("lets a burst of `burst` through at one instant, then one request per emission interval", async () => {
    const client = redis.client();
    const limiter = new RedisGcraLimiter(client, { burst: 5, ratePerSecond: 5 });
    const key = freshKey("burst");
    const burst = [];
    for (let i = 0; i < 5; i++) burst.push(await limiter.consumeAt(key, t0));
    expect(
      burst.map((d) => d.allowed),
      "an idle key has its whole burst",
    ).toEqual([true, true, true, true, true]);
    expect(
      burst.map((d) => d.retryAfterMs),
      "an allowed request has nothing to wait for",
    ).toEqual([0, 0, 0, 0, 0]);
    expect(await client.exists(`gcra:${key}`), 'without a prefix option, keys live under "gcra:"').toBe(1);
    expect(burst.map((d) => d.remaining)).toEqual([4, 3, 2, 1, 0]);
    expect(burst[4]!.resetAfterMs, "5 requests at 5/s are paid off after 1 s").toBe(1000);
    const refused = await limiter.consumeAt(key, t0);
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterMs, "the emission interval at 5/s is 200 ms").toBe(200);
    expect((await limiter.consumeAt(key, t0 + 199)).allowed, "1 ms before the TAT allows it").toBe(false);
    const onTime = await limiter.consumeAt(key, t0 + 200);
    expect(onTime.allowed, "waiting retryAfterMs must be enough").toBe(true);
    expect(onTime.remaining).toBe(0);
  });

  it("charges cost × interval at once, and a refused request leaves the stored time as it was", async () => {
    const limiter = new RedisGcraLimiter(redis.client(), { burst: 5, ratePerSecond: 10 });
    const key = freshKey("cost");
    const big = await limiter.consumeAt(key, t0, 3);
    expect(big.remaining, "a request costing 3 takes 3 of the burst").toBe(2);
    const tooBig = await limiter.consumeAt(key, t0, 3);
    expect(tooBig.allowed).toBe(false);
    expect(tooBig.retryAfterMs, "one more interval (100 ms at 10/s) makes room for 3").toBe(100);
    expect((await limiter.consumeAt(key, t0, 2)).allowed, "the refusal moved nothing: 2 are still there").toBe(true);
  });

  it("refuses a cost above the burst permanently and writes nothing for it", async () => {
    const client = redis.client();
    const limiter = new RedisGcraLimiter(client, { burst: 5, ratePerSecond: 10, prefix: "impossible:" });
    const key = freshKey("impossible");
    const decision = await limiter.consumeAt(key, t0, 6);
    expect(decision.allowed).toBe(false);
    expect(decision.retryAfterMs, "no wait lets 6 through a burst of 5: Infinity, not a finite retry loop").toBe(
      Infinity,
    );
    expect(decision.remaining).toBe(5);
    expect(await client.exists(`impossible:${key}`), "a refusal must not create state").toBe(0);
  });

  it("rounds the wait at a fractional interval up to whole milliseconds", async () => {
    const limiter = new RedisGcraLimiter(redis.client(), { burst: 1, ratePerSecond: 3 });
    const key = freshKey("fraction");
    await limiter.consumeAt(key, t0);
    const refused = await limiter.consumeAt(key, t0);
    expect(refused.retryAfterMs, "333.3 ms rounded down would send the client back too early").toBe(334);
    expect((await limiter.consumeAt(key, t0 + 333)).allowed).toBe(false);
    expect((await limiter.consumeAt(key, t0 + 334)).allowed).toBe(true);
  });

  it("stores the TAT to full precision: an epoch time in ms has 13 digits before the point", async () => {
    const limiter = new RedisGcraLimiter(redis.client(), { burst: 1, ratePerSecond: 3 });
    const key = freshKey("precision");
    await limiter.consumeAt(key, t0);
    expect(
      (await limiter.consumeAt(key, t0 + 333.32)).allowed,
      "333.32 ms into an interval of 333.33 ms, the TAT is not reached; Lua's tostring keeps 14 digits and rounds it to 333.3",
    ).toBe(false);
    expect((await limiter.consumeAt(key, t0 + 333.34)).allowed).toBe(true);
  });

  it("agrees with a token bucket of capacity `burst` on random traffic, with exact waits", async () => {
    const burst = 4;
    const rate = 5;
    const limiter = new RedisGcraLimiter(redis.client(), { burst, ratePerSecond: rate });
    const key = freshKey("model");
    const random = seededRandom(5);
    let now = t0;
    let tokens = burst;
    let last = now;
    const granted: { at: number; cost: number }[] = [];
    let retry: { cost: number; waitMs: number; early: boolean } | undefined;
    for (let step = 0; step < 200; step++) {
      let cost = 1 + Math.floor(random() * 2);
      if (retry) {
        now += retry.early ? retry.waitMs - 1 : retry.waitMs;
        cost = retry.cost;
      } else {
        now += Math.floor(random() * 400);
      }
      tokens = Math.min(burst, tokens + ((now - last) * rate) / 1000);
      last = now;
      const decision = await limiter.consumeAt(key, now, cost);
      if (retry)
        expect(
          decision.allowed,
          `step ${step}: retrying ${retry.early ? "1 ms before" : "exactly at"} retryAfterMs`,
        ).toBe(!retry.early);
      expect(
        decision.allowed,
        `step ${step}: a bucket holding ${tokens.toFixed(3)} tokens decides a cost of ${cost}`,
      ).toBe(tokens + 1e-9 >= cost);
      if (decision.allowed) {
        tokens -= cost;
        granted.push({ at: now, cost });
      }
      expect(decision.remaining, `step ${step}: remaining is the whole tokens left`).toBe(Math.floor(tokens + 1e-9));
      retry = undefined;
      if (!decision.allowed && random() < 0.6)
        retry = { cost, waitMs: decision.retryAfterMs, early: random() < 0.3 && decision.retryAfterMs > 1 };
    }
    expect(granted.length).toBeGreaterThan(60);
  });

  it("caps the debt when the clock steps back: one interval to wait, not the length of the step", async () => {
    const limiter = new RedisGcraLimiter(redis.client(), { burst: 5, ratePerSecond: 5 });
    const key = freshKey("step-back");
    for (let i = 0; i < 5; i++) await limiter.consumeAt(key, t0);
    const stepped = t0 - 60_000; // Redis TIME is a wall clock: NTP can step it back a minute
    const back = await limiter.consumeAt(key, stepped);
    expect(back.allowed, "a step back is not a refill").toBe(false);
    expect(back.remaining).toBe(0);
    expect(
      back.retryAfterMs,
      "a key never owes more than its whole burst: the next request is one interval (200 ms) away, not 60.2 s",
    ).toBe(200);
    expect((await limiter.consumeAt(key, stepped + 200)).allowed, "and waiting that long is enough").toBe(true);
  });

  it("keeps a key written on a simulated clock until that clock reaches its TAT, however much real time passes", async () => {
    const limiter = new RedisGcraLimiter(redis.client(), { burst: 2, ratePerSecond: 100 });
    const key = freshKey("simulated");
    await limiter.consumeAt(key, t0);
    await limiter.consumeAt(key, t0); // paid off at t0 + 20 ms of the caller's clock
    await new Promise((resolve) => setTimeout(resolve, 100)); // real time, which consumeAt's clock knows nothing of
    expect(
      (await limiter.consumeAt(key, t0 + 1)).allowed,
      "1 ms of the caller's clock has passed: a PX of 20 ms in real time expired the key and handed out a fresh burst",
    ).toBe(false);
  });

  it("rejects a burst, rate or cost that is not a positive finite number with RangeError", async () => {
    expect(() => new RedisGcraLimiter(redis.client(), { burst: 0, ratePerSecond: 1 })).toThrow(RangeError);
    expect(
      () => new RedisGcraLimiter(redis.client(), { burst: 5, ratePerSecond: 0 }),
      "a zero rate divides by zero",
    ).toThrow(RangeError);
    const limiter = new RedisGcraLimiter(redis.client(), { burst: 5, ratePerSecond: 1 });
    await expect(limiter.consume("k", 0), "a free request would probe without paying").rejects.toThrow(RangeError);
    await expect(limiter.consume("k", -1), "a negative cost would pay quota back").rejects.toThrow(RangeError);
    await expect(limiter.consumeAt("k", Number.NaN), "NaN as a time poisons the stored TAT").rejects.toThrow(
      RangeError,
    );
    expect(
      () => new RedisGcraLimiter(redis.client(), { burst: 0, ratePerSecond: 1 }),
      "the message names the option at fault",
    ).toThrow(mentions("burst"));
    expect(
      () => new RedisGcraLimiter(redis.client(), { burst: 5, ratePerSecond: Number.NaN }),
      "the message names the option at fault",
    ).toThrow(mentions("ratePerSecond"));
    await expect(limiter.consume("k", Number.POSITIVE_INFINITY), "the message names what is at fault").rejects.toThrow(
      mentions("cost"),
    );
    await expect(
      limiter.consumeAt("k", Number.POSITIVE_INFINITY),
      "the message names what is at fault",
    ).rejects.toThrow(mentions("nowMs"));
  });
});

describe("one key per client, always with a TTL", () => {
  it("keeps one key per limited key, which expires when its bucket would be full again", async () => {
    const before = await storedKeys();
    const limiter = new RedisGcraLimiter(redis.client(), { burst: 5, ratePerSecond: 1, prefix: "ttl:" });
    for (let i = 0; i < 4; i++) await limiter.consume("alice");
    await limiter.consume("alice", 5); // refused: must not touch the key
    const after = await storedKeys();
    const added = [...after].filter(([key]) => !before.has(key));
    expect(added.length, "GCRA needs one number per key, not a log").toBe(1);
    const [key, pttl] = added[0]!;
    expect(key.endsWith("ttl:alice"), "the key is the limiter's prefix plus the limited key").toBe(true);
    expect(
      pttl,
      "4 requests at 1/s are paid off in 4 s: that is the TTL (minus the test's own time)",
    ).toBeLessThanOrEqual(4000);
    expect(pttl, "a TTL shorter than the debt would forget it and hand out a fresh burst").toBeGreaterThan(2000);
  });

  it("gives every one of 1000 distinct keys a TTL, so a key flood cannot fill Redis", async () => {
    // One request back per 100 s: every TTL is long enough to outlive the checks below.
    const limiter = new RedisGcraLimiter(redis.client(), { burst: 3, ratePerSecond: 0.01, prefix: "flood:" });
    await Promise.all(Array.from({ length: 1000 }, (_, i) => limiter.consume(`spoofed-${i}`)));
    const flood = [...(await storedKeys())].filter(([key]) => key.includes("flood:"));
    expect(flood.length).toBe(1000);
    const immortal = flood.filter(([, pttl]) => pttl === -1);
    expect(
      immortal.map(([key]) => key),
      "a key without a TTL lives forever: every write needs PX",
    ).toEqual([]);
  });
});

describe("exact across app instances", () => {
  it("lets exactly `burst` of 100 concurrent requests through two limiter instances with their own connections", async () => {
    const burst = 10;
    const options = { burst, ratePerSecond: 0.01, prefix: "shared:" }; // one request back per 100 s: no refill mid-test
    const instanceA = new RedisGcraLimiter(redis.client(), options);
    const instanceB = new RedisGcraLimiter(redis.client(), options);
    const key = freshKey("race");
    const decisions = await Promise.all(
      Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? instanceA : instanceB).consume(key)),
    );
    const allowed = decisions.filter((d) => d.allowed);
    expect(
      allowed.length,
      "a read-then-write outside one script lets both instances read the same state and both allow",
    ).toBe(burst);
    expect(
      allowed.map((d) => d.remaining).sort((a, b) => a - b),
      "each allowed request saw a distinct remaining: the decisions were serialised",
    ).toEqual(Array.from({ length: burst }, (_, i) => i));
    expect(decisions.filter((d) => !d.allowed).every((d) => d.retryAfterMs > 0)).toBe(true);
  });
});

describe("time comes from Redis", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("gives nothing extra to an app instance whose clock runs an hour fast", async () => {
    const options = { burst: 3, ratePerSecond: 0.01, prefix: "skew:" };
    const honest = new RedisGcraLimiter(redis.client(), options);
    const fast = new RedisGcraLimiter(redis.client(), options);
    const key = freshKey("fast");
    for (let i = 0; i < 3; i++) await honest.consume(key);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 3_600_000);
    const decision = await fast.consume(key);
    expect(
      decision.allowed,
      "an hour on the app's clock is 36 requests at 0.01/s; Redis's TIME says no time passed",
    ).toBe(false);
  });

  it("does not refuse an app instance whose clock runs an hour slow", async () => {
    const options = { burst: 3, ratePerSecond: 0.01, prefix: "skew:" };
    const honest = new RedisGcraLimiter(redis.client(), options);
    const slow = new RedisGcraLimiter(redis.client(), options);
    const key = freshKey("slow");
    await honest.consume(key);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() - 3_600_000);
    const decision = await slow.consume(key);
    expect(decision.allowed, "one of three was used; a slow app clock must not turn that into an hour of debt").toBe(
      true,
    );
    expect(decision.remaining).toBe(1);
  });
});

describe("EVALSHA, one round trip, NOSCRIPT fallback", () => {
  it("decides each request with one EVALSHA command: one round trip, without resending the script", async () => {
    const client = redis.client();
    const limiter = new RedisGcraLimiter(client, { burst: 100, ratePerSecond: 100 });
    await limiter.consume("warm-up");
    await limiter.consume("warm-up");
    const sent = recordCommands(client);
    for (let i = 0; i < 10; i++) await limiter.consume(freshKey("trip"));
    expect(sent.length, "a separate TIME, GET or SET is another round trip and breaks atomicity").toBe(10);
    expect(
      sent.map((c) => c.name.toLowerCase()),
      "EVAL resends the whole script every time; EVALSHA sends 40 bytes",
    ).toEqual(Array(10).fill("evalsha"));
  });

  it("keeps deciding correctly after SCRIPT FLUSH empties the server's script cache", async () => {
    const client = redis.client();
    const limiter = new RedisGcraLimiter(client, { burst: 2, ratePerSecond: 0.01 });
    const key = freshKey("flush");
    expect((await limiter.consume(key)).allowed).toBe(true);
    await redis.client().script("FLUSH");
    const afterFlush = await limiter.consume(key);
    expect(
      afterFlush.allowed,
      "a restart or failover empties the cache: NOSCRIPT must fall back to EVAL, not fail",
    ).toBe(true);
    expect(afterFlush.remaining).toBe(0);
    expect((await limiter.consume(key)).allowed).toBe(false);
    const sent = recordCommands(client);
    await limiter.consume(freshKey("flush"));
    expect(sent.length, "once reloaded, one command per decision again").toBe(1);
  });

  it("surfaces an error other than NOSCRIPT as it is, without resending the script", async () => {
    const client = redis.client();
    const limiter = new RedisGcraLimiter(client, { burst: 2, ratePerSecond: 1, prefix: "corrupt:" });
    await limiter.consume("warm-up");
    // A set: whether the TAT lives in a string or in a hash field, reading it fails with WRONGTYPE.
    await client.sadd("corrupt:victim", "not a timestamp");
    const sent = recordCommands(client);
    await expect(
      limiter.consume("victim"),
      "a key of the wrong type is a real error; hiding it hides corruption",
    ).rejects.toThrow(/WRONGTYPE/);
    expect(
      sent.length,
      "only NOSCRIPT means the server forgot the script; anything else must not trigger a resend",
    ).toBe(1);
  });
});
