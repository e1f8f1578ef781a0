import { manualClock } from "#fixtures/clock";
import { seededRandom } from "#fixtures/random";
import { describe, expect, it } from "vitest";
import { TokenBucket, TokenBucketLimiter } from "../src/token-bucket";
import { mentions } from "#fixtures/messages";

describe("capacity and refill", () => {
  it("starts full and lets a burst of exactly `capacity` through, then refuses", () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ capacity: 3, refillPerSecond: 1, clock });
    const burst = [bucket.tryRemove(), bucket.tryRemove(), bucket.tryRemove()];
    expect(
      burst.map((d) => d.allowed),
      "a new bucket is full: the whole burst fits",
    ).toEqual([true, true, true]);
    expect(
      burst.map((d) => d.remaining),
      "remaining counts down with each request",
    ).toEqual([2, 1, 0]);
    expect(bucket.tryRemove().allowed, "the fourth request at the same instant exceeds the capacity").toBe(false);
  });

  it("refills 0.5 token in 100 ms at 5 tokens/s, and a whole one after 200 ms", () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ capacity: 5, refillPerSecond: 5, clock });
    for (let i = 0; i < 5; i++) bucket.tryRemove();
    clock.advance(100);
    expect(bucket.available(), "refill is continuous: 100 ms at 5/s is half a token, not zero").toBeCloseTo(0.5, 9);
    const early = bucket.tryRemove();
    expect(early.allowed, "half a token cannot pay for a request costing 1").toBe(false);
    expect(early.remaining, "a refused request reports what is there").toBeCloseTo(0.5, 9);
    clock.advance(100);
    const onTime = bucket.tryRemove();
    expect(onTime.allowed, "after 200 ms at 5/s a whole token is there").toBe(true);
    expect(onTime.remaining).toBeCloseTo(0, 9);
  });

  it("never holds more than `capacity`, however long it stays idle", () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ capacity: 4, refillPerSecond: 2, clock });
    bucket.tryRemove(4);
    clock.advance(3_600_000);
    expect(bucket.available(), "an hour of refill still caps at the capacity").toBe(4);
    const decisions = Array.from({ length: 5 }, () => bucket.tryRemove());
    expect(
      decisions.filter((d) => d.allowed).length,
      "the burst after a long idle is the capacity, not an hour's worth",
    ).toBe(4);
  });

  it("takes `cost` tokens at once and refuses a cost larger than what is left", () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ capacity: 10, refillPerSecond: 10, clock });
    const big = bucket.tryRemove(7);
    expect(big.allowed).toBe(true);
    expect(big.remaining, "a request costing 7 takes 7 tokens").toBe(3);
    const tooBig = bucket.tryRemove(4);
    expect(tooBig.allowed, "3 tokens cannot pay for 4").toBe(false);
    expect(bucket.tryRemove(3).allowed, "the refused request took nothing: 3 tokens are still there").toBe(true);
  });

  it("reports how long until the whole capacity is back (resetAfterMs)", () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ capacity: 10, refillPerSecond: 4, clock });
    expect(bucket.tryRemove(6).resetAfterMs, "6 missing tokens at 4/s take 1.5 s").toBe(1500);
    clock.advance(500);
    expect(bucket.tryRemove(1).resetAfterMs, "5 missing tokens at 4/s take 1.25 s").toBe(1250);
    expect(bucket.tryRemove(6).resetAfterMs, "a refused request changes nothing: still 1.25 s").toBe(1250);
    expect(bucket.tryRemove(11).resetAfterMs, "nor does an impossible one").toBe(1250);
  });

  it("rejects a capacity, rate or cost that is not a positive finite number with RangeError", () => {
    expect(
      () => new TokenBucket({ capacity: 0, refillPerSecond: 1 }),
      "a bucket that holds nothing is a configuration bug",
    ).toThrow(RangeError);
    expect(() => new TokenBucket({ capacity: 5, refillPerSecond: -1 })).toThrow(RangeError);
    expect(() => new TokenBucket({ capacity: Number.NaN, refillPerSecond: 1 })).toThrow(RangeError);
    const bucket = new TokenBucket({ capacity: 5, refillPerSecond: 1, clock: manualClock() });
    expect(() => bucket.tryRemove(0), "a free request would let a caller probe without paying").toThrow(RangeError);
    expect(() => bucket.tryRemove(-2), "a negative cost would mint tokens").toThrow(RangeError);
    expect(() => bucket.tryRemove(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(
      () => new TokenBucketLimiter({ capacity: 5, refillPerSecond: 1, maxKeys: 0 }),
      "a limiter that can track no key cannot limit",
    ).toThrow(RangeError);
    expect(() => new TokenBucketLimiter({ capacity: 5, refillPerSecond: 1, maxKeys: 1 })).not.toThrow();
    const named: Array<[() => unknown, string]> = [
      [() => new TokenBucket({ capacity: 0, refillPerSecond: 1 }), "capacity"],
      [() => new TokenBucket({ capacity: 5, refillPerSecond: Number.POSITIVE_INFINITY }), "refillPerSecond"],
      [() => bucket.tryRemove(-2), "cost"],
      [() => new TokenBucketLimiter({ capacity: 5, refillPerSecond: 1, maxKeys: 2.5 }), "maxKeys"],
    ];
    for (const [attempt, name] of named)
      expect(attempt, `the message names what is at fault (${name})`).toThrow(mentions(name));
  });
});

describe("the wait until a request could succeed", () => {
  it("says exactly how long to wait: after retryAfterMs the request succeeds, 1 ms earlier it does not", () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ capacity: 4, refillPerSecond: 5, clock });
    bucket.tryRemove(4);
    const refused = bucket.tryRemove(2);
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterMs, "2 tokens at 5/s take 400 ms").toBe(400);
    clock.advance(399);
    expect(bucket.tryRemove(2).allowed, "1 ms early is still too early").toBe(false);
    clock.advance(1);
    expect(bucket.tryRemove(2).allowed, "a client that waits retryAfterMs must not be refused again").toBe(true);
  });

  it("rounds a fractional wait up to whole milliseconds, never down", () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 3, clock });
    bucket.tryRemove();
    const refused = bucket.tryRemove();
    expect(refused.retryAfterMs, "1 token at 3/s takes 333.3 ms: a wait of 333 would come back too early").toBe(334);
    clock.advance(refused.retryAfterMs);
    expect(bucket.tryRemove().allowed).toBe(true);
  });

  it("stays exact at high refill rates, where a tiny overshoot of a whole millisecond still needs one more", () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ capacity: 3000, refillPerSecond: 1_000_000, clock });
    bucket.tryRemove(3000);
    const refused = bucket.tryRemove(2000.0005);
    expect(
      refused.retryAfterMs,
      "2000.0005 tokens at 1 000 000/s take 2.0000005 ms: told 2, the client would be refused again",
    ).toBe(3);
    clock.advance(2);
    expect(bucket.tryRemove(2000.0005).allowed, "2 ms earn only 2000 tokens").toBe(false);
    clock.advance(1);
    expect(bucket.tryRemove(2000.0005).allowed).toBe(true);
  });

  it("reports 0 wait for an allowed request", () => {
    const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 1, clock: manualClock() });
    expect(bucket.tryRemove().retryAfterMs).toBe(0);
  });

  it("refuses a cost above the capacity permanently (Infinity), not with a wait that could never end well", () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ capacity: 5, refillPerSecond: 100, clock });
    const impossible = bucket.tryRemove(6);
    expect(impossible.allowed).toBe(false);
    expect(
      impossible.retryAfterMs,
      "no wait fills a bucket of 5 with 6 tokens; a finite wait would make the client retry forever",
    ).toBe(Infinity);
    clock.advance(3_600_000);
    expect(bucket.tryRemove(6).allowed, "even after an hour").toBe(false);
    expect(bucket.tryRemove(5).allowed, "the impossible request took nothing").toBe(true);
  });
});

describe("a clock that moves backwards, or breaks", () => {
  it("treats a step back as time standing still: no refill, no debt, and no lock-out for the length of the step", () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ capacity: 10, refillPerSecond: 5, clock });
    bucket.tryRemove(10);
    const start = clock.now();
    clock.set(start - 60_000);
    const back = bucket.tryRemove();
    expect(back.allowed, "an NTP step backwards is not a refill").toBe(false);
    expect(back.remaining, "nor a debt: tokens never go negative").toBe(0);
    expect(back.retryAfterMs, "one token at 5/s is 200 ms away, whatever the clock did").toBe(200);
    clock.advance(200);
    expect(
      bucket.tryRemove().allowed,
      "200 ms after the step one token is back: waiting for the clock to reach its old reading again locks the client out for the whole 60 s step",
    ).toBe(true);
    clock.advance(100);
    expect(bucket.available(), "and it keeps refilling at 5/s from the new reading").toBeCloseTo(0.5, 9);
  });

  it("ignores a clock reading that is not a number instead of poisoning the bucket", () => {
    const clock = manualClock();
    let broken = false;
    const bucket = new TokenBucket({
      capacity: 2,
      refillPerSecond: 1,
      clock: { now: () => (broken ? Number.NaN : clock.now()) },
    });
    bucket.tryRemove(2);
    clock.advance(500);
    broken = true;
    const blind = bucket.tryRemove();
    expect(blind.allowed, "a NaN reading is no time at all: no refill").toBe(false);
    expect(Number.isNaN(blind.remaining) || Number.isNaN(blind.retryAfterMs), "NaN must not leak into a decision").toBe(
      false,
    );
    broken = false;
    expect(bucket.available(), "once the clock reads numbers again, the 500 ms that passed count").toBeCloseTo(0.5, 9);
    clock.advance(500);
    expect(bucket.tryRemove().allowed, "one NaN must not break the bucket for good").toBe(true);
  });
});

describe("agreement with the token-bucket model on random traffic", () => {
  it("never lets more than capacity + rate × elapsed through, keeps exact books, and its waits are exact", () => {
    const capacity = 5;
    const rate = 4; // tokens per second
    const random = seededRandom(20260105);
    const clock = manualClock();
    const bucket = new TokenBucket({ capacity, refillPerSecond: rate, clock });
    const granted: { at: number; cost: number }[] = [];
    let tokens = capacity; // the model: what the bucket should hold
    let last = clock.now();
    let retry: { cost: number; waitMs: number; early: boolean } | undefined;

    for (let step = 0; step < 400; step++) {
      let cost = 1 + Math.floor(random() * 3);
      if (retry) {
        clock.advance(retry.early ? retry.waitMs - 1 : retry.waitMs);
        cost = retry.cost;
      } else {
        clock.advance(Math.floor(random() * 500));
      }
      tokens = Math.min(capacity, tokens + ((clock.now() - last) * rate) / 1000);
      last = clock.now();
      const decision = bucket.tryRemove(cost);
      if (retry) {
        expect(
          decision.allowed,
          `step ${step}: retrying ${retry.early ? "1 ms before" : "exactly at"} retryAfterMs`,
        ).toBe(!retry.early);
      }
      if (decision.allowed) {
        tokens -= cost;
        granted.push({ at: clock.now(), cost });
      }
      expect(
        decision.remaining,
        `step ${step}: remaining must match the model (capacity ${capacity}, ${rate}/s)`,
      ).toBeCloseTo(tokens, 6);
      retry = undefined;
      if (!decision.allowed) {
        expect(
          decision.retryAfterMs,
          `step ${step}: a refused request that fits the capacity has a finite, positive wait`,
        ).toBeGreaterThan(0);
        const roll = random();
        if (roll < 0.6) retry = { cost, waitMs: decision.retryAfterMs, early: roll < 0.2 && decision.retryAfterMs > 1 };
      }
    }

    expect(granted.length, "the traffic must exercise both outcomes").toBeGreaterThan(50);
    for (let i = 0; i < granted.length; i++) {
      let spent = 0;
      for (let j = i; j < granted.length; j++) {
        spent += granted[j]!.cost;
        const allowance = capacity + ((granted[j]!.at - granted[i]!.at) * rate) / 1000;
        if (spent > allowance + 1e-6) {
          expect.fail(
            `between ${granted[i]!.at} and ${granted[j]!.at} it let ${spent} tokens through; a bucket allows at most ${allowance}`,
          );
        }
      }
    }
  });
});

describe("many keys in bounded memory", () => {
  it("gives every key its own bucket", () => {
    const limiter = new TokenBucketLimiter({ capacity: 2, refillPerSecond: 1, clock: manualClock() });
    expect(limiter.tryRemove("alice").allowed).toBe(true);
    expect(limiter.tryRemove("alice").allowed).toBe(true);
    expect(limiter.tryRemove("alice").allowed, "alice spent her burst").toBe(false);
    expect(limiter.tryRemove("bob").allowed, "bob's bucket is not alice's").toBe(true);
    expect(limiter.size).toBe(2);
  });

  it("forgets buckets idle long enough to be full again, so idle keys do not pile up", () => {
    const clock = manualClock();
    const limiter = new TokenBucketLimiter({ capacity: 2, refillPerSecond: 1, clock });
    for (let i = 0; i < 1000; i++) limiter.tryRemove(`client-${i}`);
    expect(limiter.size).toBe(1000);
    clock.advance(2000); // 2 tokens at 1/s: every one of them is full again, same as never seen
    for (let i = 0; i < 1000; i++) limiter.tryRemove("newcomer");
    expect(limiter.size, "a thousand full buckets carry no state; keeping them leaks memory key by key").toBe(1);
  });

  it("keeps a bucket that is still refilling, because forgetting it would hand out a fresh burst", () => {
    const clock = manualClock();
    const limiter = new TokenBucketLimiter({ capacity: 2, refillPerSecond: 1, clock });
    limiter.tryRemove("alice", 2);
    clock.advance(1999);
    for (let i = 0; i < 10; i++) limiter.tryRemove(`other-${i}`);
    const decision = limiter.tryRemove("alice", 2);
    expect(decision.allowed, "after 1.999 s alice has 1.999 tokens, not a full bucket").toBe(false);
  });

  it("caps the number of keys under a flood of distinct keys, evicting the least recently used", () => {
    const clock = manualClock();
    const limiter = new TokenBucketLimiter({ capacity: 3, refillPerSecond: 1, clock, maxKeys: 100 });
    limiter.tryRemove("hot", 3);
    for (let i = 0; i < 5000; i++) {
      limiter.tryRemove(`spoofed-${i}`);
      if (i % 20 === 0) {
        expect(
          limiter.tryRemove("hot").allowed,
          `after ${i} spoofed keys: a key in constant use is recently used; evicting it would reset its debt`,
        ).toBe(false);
      }
      expect(limiter.size, "a flood of fresh keys must not grow memory past maxKeys").toBeLessThanOrEqual(100);
    }
  });

  it("treats a step back as time standing still for every key, without locking any of them out", () => {
    const clock = manualClock();
    const limiter = new TokenBucketLimiter({ capacity: 1, refillPerSecond: 1, clock });
    limiter.tryRemove("alice");
    const start = clock.now();
    clock.set(start - 10_000);
    const back = limiter.tryRemove("alice");
    expect(back.allowed, "ten seconds into the past is not ten seconds of refill").toBe(false);
    expect(back.remaining, "tokens never go negative").toBe(0);
    expect(limiter.tryRemove("bob").allowed, "a new key still starts full").toBe(true);
    clock.advance(500);
    expect(limiter.tryRemove("alice").allowed, "half a second after the step alice has half a token").toBe(false);
    clock.advance(back.retryAfterMs - 500);
    expect(
      limiter.tryRemove("alice").allowed,
      "the retryAfterMs given at the step holds: no waiting for the clock to catch up 10 s",
    ).toBe(true);
  });

  it("ignores a clock reading that is not a number, for every key", () => {
    const clock = manualClock();
    let broken = false;
    const limiter = new TokenBucketLimiter({
      capacity: 1,
      refillPerSecond: 1,
      clock: { now: () => (broken ? Number.NaN : clock.now()) },
    });
    limiter.tryRemove("alice");
    broken = true;
    expect(limiter.tryRemove("alice").allowed, "no time passed on a NaN reading").toBe(false);
    expect(limiter.tryRemove("bob").allowed, "a new key still starts full while the clock is broken").toBe(true);
    broken = false;
    clock.advance(1000);
    expect(limiter.tryRemove("alice").allowed, "one NaN reading must not poison the limiter for good").toBe(true);
    expect(
      limiter.tryRemove("bob").allowed,
      "bob's bucket, first seen during the NaN reading, refills like any other",
    ).toBe(true);
    expect(limiter.tryRemove("carol").allowed, "and new keys still get a full bucket").toBe(true);
    clock.advance(5000);
    limiter.tryRemove("dave");
    expect(limiter.size, "and idle keys are still forgotten afterwards").toBe(1);
  });
});
