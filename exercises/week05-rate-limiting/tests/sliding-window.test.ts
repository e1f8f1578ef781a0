import { DEFAULT_START_MS, manualClock } from "#fixtures/clock";
import { seededRandom } from "#fixtures/random";
import { describe, expect, it } from "vitest";
import type { Decision } from "../src/decision";
import {
  FixedWindowLimiter,
  SlidingCounterLimiter,
  SlidingLogLimiter,
  type WindowLimiterOptions,
} from "../src/sliding-window";
import { mentions } from "#fixtures/messages";

// DEFAULT_START_MS (2026-01-01T00:00:00Z) is a multiple of every window used here, so
// "start + 250" is 250 ms into a fixed window.
const start = DEFAULT_START_MS;

interface Limiter {
  tryAcquire(key: string): Decision;
  readonly size: number;
}

type LimiterClass = new (options: WindowLimiterOptions) => Limiter;

/** Bursty traffic: quiet gaps, and now and then several requests in the same millisecond. */
function burstyArrivals(seed: number, count: number): number[] {
  const random = seededRandom(seed);
  const times: number[] = [];
  let now = start + 1;
  while (times.length < count) {
    now += Math.floor(random() * random() * 400);
    const burst = random() < 0.3 ? 2 + Math.floor(random() * 7) : 1;
    for (let i = 0; i < burst; i++) times.push(now);
  }
  return times;
}

function run(Limiter: LimiterClass, arrivals: number[], options: { limit: number; windowMs: number }) {
  const clock = manualClock(start);
  const limiter = new Limiter({ ...options, clock });
  return arrivals.map((at) => {
    clock.set(at);
    return { at, decision: limiter.tryAcquire("k") };
  });
}

/** How many of `admitted` (sorted times) fall in (from, to]. */
function countIn(admitted: number[], from: number, to: number): number {
  return admitted.filter((t) => t > from && t <= to).length;
}

describe("fixed window (the baseline)", () => {
  it("admits `limit` per window aligned to the epoch and starts afresh at the next boundary", () => {
    const clock = manualClock(start + 100);
    const limiter = new FixedWindowLimiter({ limit: 3, windowMs: 1000, clock });
    const first = [limiter.tryAcquire("k"), limiter.tryAcquire("k"), limiter.tryAcquire("k")];
    expect(first.map((d) => d.remaining)).toEqual([2, 1, 0]);
    const refused = limiter.tryAcquire("k");
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterMs, "the window [start, start + 1000) ends 900 ms after start + 100").toBe(900);
    clock.set(start + 1000);
    expect(limiter.tryAcquire("k").allowed, "a new window has a new count").toBe(true);
  });
});

describe("the boundary burst", () => {
  it("a fixed window lets twice the limit through across a boundary, while both sliding limiters hold to the limit", () => {
    const admittedBy = (Limiter: LimiterClass) => {
      const clock = manualClock(start + 999);
      const limiter = new Limiter({ limit: 10, windowMs: 1000, clock });
      let admitted = 0;
      for (let i = 0; i < 10; i++) if (limiter.tryAcquire("k").allowed) admitted += 1;
      clock.set(start + 1001);
      for (let i = 0; i < 10; i++) if (limiter.tryAcquire("k").allowed) admitted += 1;
      return admitted;
    };
    expect(
      admittedBy(FixedWindowLimiter),
      "the flaw the sliding limiters exist to fix: 20 requests in 2 ms under a limit of 10 per second",
    ).toBe(20);
    expect(admittedBy(SlidingLogLimiter), "the last second (start + 1, start + 1001] already holds 10 requests").toBe(
      10,
    );
    expect(admittedBy(SlidingCounterLimiter), "the previous window still weighs 99.9 %: 9.99 + 1 > 10").toBe(10);
  });
});

describe("sliding log", () => {
  it("is exact on bursty traffic: never more than `limit` in any window, and refuses only when the window is full", () => {
    const limit = 5;
    const windowMs = 1000;
    const results = run(SlidingLogLimiter, burstyArrivals(7, 600), { limit, windowMs });
    const admitted: number[] = [];
    for (const { at, decision } of results) {
      const inWindow = countIn(admitted, at - windowMs, at);
      if (decision.allowed) {
        expect(inWindow, `at ${at - start}: admitted with ${inWindow} already in the last ${windowMs} ms`).toBeLessThan(
          limit,
        );
        admitted.push(at);
      } else {
        expect(
          inWindow,
          `at ${at - start}: refused although only ${inWindow} of ${limit} were in the last ${windowMs} ms`,
        ).toBe(limit);
      }
    }
    expect(admitted.length, "the traffic must exercise both outcomes").toBeGreaterThan(100);
    expect(admitted.length).toBeLessThan(results.length);
  });

  it("admits again exactly when the oldest admission leaves the window", () => {
    const clock = manualClock(start);
    const limiter = new SlidingLogLimiter({ limit: 2, windowMs: 1000, clock });
    limiter.tryAcquire("k");
    clock.set(start + 300);
    limiter.tryAcquire("k");
    clock.set(start + 500);
    const refused = limiter.tryAcquire("k");
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterMs, "the admission at +0 leaves the window at +1000").toBe(500);
    clock.set(start + 999);
    expect(
      limiter.tryAcquire("k").allowed,
      "at +999 the admission at +0 is still inside (start - 1, start + 999]",
    ).toBe(false);
    clock.set(start + 1000);
    const admitted = limiter.tryAcquire("k");
    expect(admitted.allowed, "a request admitted at t counts for [t, t + windowMs)").toBe(true);
    expect(admitted.remaining).toBe(0);
    const next = limiter.tryAcquire("k");
    expect(next.retryAfterMs, "now the oldest is the one at +300, leaving at +1300").toBe(300);
  });

  it("does not log refused requests, so a client that kept retrying while limited gets in once its window has passed", () => {
    const clock = manualClock(start);
    const limiter = new SlidingLogLimiter({ limit: 2, windowMs: 1000, clock });
    limiter.tryAcquire("k");
    limiter.tryAcquire("k");
    for (let t = 50; t < 1000; t += 50) {
      clock.set(start + t);
      expect(limiter.tryAcquire("k").allowed).toBe(false);
    }
    clock.set(start + 1000);
    expect(
      limiter.tryAcquire("k").allowed,
      "logging refusals would lock a retrying client out for as long as it retries",
    ).toBe(true);
  });
});

describe("sliding counter", () => {
  it("weights the previous window by the share of it still inside the sliding window", () => {
    const clock = manualClock(start + 500);
    const limiter = new SlidingCounterLimiter({ limit: 10, windowMs: 1000, clock });
    const first = Array.from({ length: 10 }, () => limiter.tryAcquire("k").remaining);
    expect(first, "with no previous window the estimate is the plain count").toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    clock.set(start + 1250);
    // estimate = 10 × (1 − 0.25) + current = 7.5 + current; admit while estimate + 1 ≤ 10
    const decisions = [limiter.tryAcquire("k"), limiter.tryAcquire("k"), limiter.tryAcquire("k")];
    expect(
      decisions.map((d) => d.allowed),
      "7.5 + 1 and 8.5 + 1 fit under 10; 9.5 + 1 does not",
    ).toEqual([true, true, false]);
    expect(
      decisions.map((d) => d.remaining),
      "remaining is the whole requests left under the estimate",
    ).toEqual([1, 0, 0]);
    expect(
      decisions[2]!.retryAfterMs,
      "10 × (1 − f) + 2 + 1 ≤ 10 once f reaches 0.3, at +1300: 50 ms after +1250",
    ).toBe(50);
    clock.set(start + 1299);
    expect(limiter.tryAcquire("k").allowed).toBe(false);
    clock.set(start + 1300);
    expect(limiter.tryAcquire("k").allowed, "waiting retryAfterMs must be enough").toBe(true);
  });

  it("solves the wait into the next window when this window alone is full", () => {
    const clock = manualClock(start + 200);
    const limiter = new SlidingCounterLimiter({ limit: 4, windowMs: 1000, clock });
    for (let i = 0; i < 4; i++) limiter.tryAcquire("k");
    const refused = limiter.tryAcquire("k");
    // Next window: these 4 become `previous`; 4 × (1 − f) + 1 ≤ 4 once f reaches 0.25.
    expect(refused.retryAfterMs, "the rest of this window (800 ms) plus a quarter of the next (250 ms)").toBe(1050);
    clock.set(start + 1249);
    expect(limiter.tryAcquire("k").allowed, "1 ms early, the previous window still weighs a little more than 3").toBe(
      false,
    );
    clock.set(start + 1250);
    expect(limiter.tryAcquire("k").allowed).toBe(true);
  });

  it("forgets the previous window once a whole window has passed without requests", () => {
    const clock = manualClock(start + 500);
    const limiter = new SlidingCounterLimiter({ limit: 10, windowMs: 1000, clock });
    for (let i = 0; i < 10; i++) limiter.tryAcquire("k");
    clock.set(start + 2100);
    const admitted = Array.from({ length: 11 }, () => limiter.tryAcquire("k").allowed).filter(Boolean).length;
    expect(admitted, "the window before the previous one no longer counts: the full limit is back").toBe(10);
  });

  it("stays within its documented error bound: at most limit + previous × f in any window, and at most limit per fixed window", () => {
    const limit = 5;
    const windowMs = 1000;
    const results = run(SlidingCounterLimiter, burstyArrivals(11, 800), { limit, windowMs });
    const admitted = results.filter((r) => r.decision.allowed).map((r) => r.at);
    expect(admitted.length).toBeGreaterThan(100);
    let overshoot = 0;
    admitted.forEach((t, index) => {
      const windowStart = Math.floor(t / windowMs) * windowMs;
      const f = (t - windowStart) / windowMs;
      const previous = countIn(admitted, windowStart - windowMs - 1, windowStart - 1);
      const sliding = countIn(admitted.slice(0, index + 1), t - windowMs, t);
      const thisFixedWindow = countIn(admitted.slice(0, index + 1), windowStart - 1, t);
      expect(
        thisFixedWindow,
        `at ${t - start}: more than ${limit} admitted inside one fixed window`,
      ).toBeLessThanOrEqual(limit);
      expect(
        sliding,
        `at ${t - start}: ${sliding} in the last ${windowMs} ms exceeds limit + previous × f = ${limit} + ${previous} × ${f}`,
      ).toBeLessThanOrEqual(limit + previous * f + 1e-9);
      overshoot = Math.max(overshoot, sliding - limit);
    });
    expect(overshoot, "bursty traffic shows the approximation: some window holds more than the limit").toBeGreaterThan(
      0,
    );
  });
});

const LIMITERS = [
  ["fixed window", FixedWindowLimiter],
  ["sliding log", SlidingLogLimiter],
  ["sliding counter", SlidingCounterLimiter],
] as const;

describe("exact waits, whatever the clock reads", () => {
  it.each(LIMITERS)(
    "the %s gives whole-ms waits that are exact on a fractional clock: 1 ms early is refused, on time is admitted",
    (name, Limiter) => {
      const random = seededRandom(99);
      const clock = manualClock(start);
      const limiter = new Limiter({ limit: 4, windowMs: 1000, clock });
      let refusals = 0;
      for (let step = 0; step < 400; step++) {
        clock.advance(random() * 250); // performance.now() and friends read fractions of a millisecond
        const decision = limiter.tryAcquire("k");
        if (decision.allowed) continue;
        refusals += 1;
        expect(
          Number.isInteger(decision.retryAfterMs),
          `${name}, step ${step}: retryAfterMs is whole milliseconds, got ${decision.retryAfterMs}`,
        ).toBe(true);
        expect(decision.retryAfterMs, `${name}, step ${step}: a refusal must say when to come back`).toBeGreaterThan(0);
        if (decision.retryAfterMs > 1) {
          clock.advance(decision.retryAfterMs - 1);
          expect(
            limiter.tryAcquire("k").allowed,
            `${name}, step ${step}: 1 ms before retryAfterMs is still too early; a longer wait than needed idles the client`,
          ).toBe(false);
          clock.advance(1);
        } else {
          clock.advance(decision.retryAfterMs);
        }
        expect(
          limiter.tryAcquire("k").allowed,
          `${name}, step ${step}: refused again after waiting the ${decision.retryAfterMs} ms it was told`,
        ).toBe(true);
      }
      expect(refusals).toBeGreaterThan(20);
    },
  );

  it.each(LIMITERS)(
    "the %s treats a clock that steps back as time standing still: no fresh quota, and no lock-out for the length of the step",
    (name, Limiter) => {
      const clock = manualClock(start + 100);
      const limiter = new Limiter({ limit: 3, windowMs: 1000, clock });
      for (let i = 0; i < 3; i++) limiter.tryAcquire("k");
      clock.set(start - 60_000 + 100); // an NTP step back by one minute
      const back = limiter.tryAcquire("k");
      expect(back.allowed, `${name}: a step back into an older window is not a new quota`).toBe(false);
      expect(
        back.retryAfterMs,
        `${name}: the wait is measured from the step, not from a minute ahead`,
      ).toBeLessThanOrEqual(2000);
      clock.advance(1);
      expect(
        limiter.tryAcquire("k").allowed,
        `${name}: 1 ms after the step, time has moved on by 1 ms, not jumped ahead`,
      ).toBe(false);
      clock.advance(back.retryAfterMs - 1);
      expect(
        limiter.tryAcquire("k").allowed,
        `${name}: after the ${back.retryAfterMs} ms it was told, the client gets in; waiting for the clock to catch up would lock it out for the whole step`,
      ).toBe(true);
    },
  );

  it.each(LIMITERS)(
    "the %s ignores a clock reading that is not a number instead of being poisoned by it",
    (name, Limiter) => {
      const clock = manualClock(start + 100);
      let broken = false;
      const limiter = new Limiter({
        limit: 2,
        windowMs: 1000,
        clock: { now: () => (broken ? Number.NaN : clock.now()) },
      });
      limiter.tryAcquire("alice");
      limiter.tryAcquire("alice");
      broken = true;
      const blind = limiter.tryAcquire("alice");
      expect(blind.allowed, `${name}: a NaN reading is no time at all, not a new window`).toBe(false);
      expect(Number.isNaN(blind.retryAfterMs), `${name}: NaN must not leak into a decision`).toBe(false);
      expect(limiter.tryAcquire("bob").allowed, `${name}: a new key is admitted while the clock is broken`).toBe(true);
      broken = false;
      clock.advance(3000);
      expect(limiter.tryAcquire("alice").allowed, `${name}: one NaN reading must not break the limiter for good`).toBe(
        true,
      );
      expect(
        limiter.tryAcquire("bob").allowed,
        `${name}: bob, first seen during the NaN reading, is counted like anyone`,
      ).toBe(true);
      expect(limiter.tryAcquire("bob").allowed).toBe(true);
      expect(limiter.tryAcquire("bob").allowed, `${name}: bob's window holds 2 like anyone's`).toBe(false);
    },
  );
});

describe("memory and configuration", () => {
  it.each([
    ["fixed window", FixedWindowLimiter, 1000],
    ["sliding log", SlidingLogLimiter, 1000],
    ["sliding counter", SlidingCounterLimiter, 2000],
  ] as const)("the %s forgets keys idle for longer than their state can matter", (_name, Limiter, idleMs) => {
    const clock = manualClock(start);
    const limiter = new Limiter({ limit: 3, windowMs: 1000, clock });
    for (let i = 0; i < 500; i++) limiter.tryAcquire(`client-${i}`);
    expect(limiter.size).toBe(500);
    clock.advance(idleMs);
    for (let i = 0; i < 500; i++) limiter.tryAcquire("newcomer");
    expect(limiter.size, `after ${idleMs} ms those keys carry no state; keeping them leaks memory key by key`).toBe(1);
  });

  it("the sliding counter keeps a key whose previous window still counts", () => {
    const clock = manualClock(start + 900);
    const limiter = new SlidingCounterLimiter({ limit: 3, windowMs: 1000, clock });
    for (let i = 0; i < 3; i++) limiter.tryAcquire("alice");
    clock.set(start + 1100);
    limiter.tryAcquire("bob");
    expect(limiter.tryAcquire("alice").allowed, "alice's 3 requests at +900 still weigh 90 % at +1100").toBe(false);
  });

  it.each(LIMITERS)(
    "the %s caps the number of keys under a flood of distinct keys, evicting the least recently used",
    (name, Limiter) => {
      const clock = manualClock(start);
      const limiter = new Limiter({ limit: 3, windowMs: 1000, clock, maxKeys: 100 });
      for (let i = 0; i < 3; i++) limiter.tryAcquire("hot");
      for (let i = 0; i < 5000; i++) {
        limiter.tryAcquire(`spoofed-${i}`);
        expect(limiter.size, `${name}: memory must not grow with every new key`).toBeLessThanOrEqual(100);
        if (i % 50 === 0) {
          expect(
            limiter.tryAcquire("hot").allowed,
            `${name}, after ${i} spoofed keys: a key in constant use is recently used; evicting it would hand it a fresh quota`,
          ).toBe(false);
        }
      }
    },
  );

  it("rejects a limit or window that is not a positive integer with RangeError", () => {
    for (const Limiter of [FixedWindowLimiter, SlidingLogLimiter, SlidingCounterLimiter]) {
      expect(
        () => new Limiter({ limit: 0, windowMs: 1000 }),
        `${Limiter.name}: a limit of 0 is a configuration bug`,
      ).toThrow(RangeError);
      expect(
        () => new Limiter({ limit: 0, windowMs: 1000 }),
        `${Limiter.name}: the message names the option at fault`,
      ).toThrow(mentions("limit"));
      expect(
        () => new Limiter({ limit: 5, windowMs: 0 }),
        `${Limiter.name}: the message names the option at fault`,
      ).toThrow(mentions("windowMs"));
      expect(
        () => new Limiter({ limit: 5, windowMs: 10, maxKeys: 0 }),
        `${Limiter.name}: a cap of 0 keys tracks no one`,
      ).toThrow(mentions("maxKeys"));
      expect(
        () => new Limiter({ limit: 2.5, windowMs: 1000 }),
        `${Limiter.name}: half a request is not a limit`,
      ).toThrow(RangeError);
      expect(() => new Limiter({ limit: 5, windowMs: 0 }), `${Limiter.name}: a zero window divides by zero`).toThrow(
        RangeError,
      );
      expect(
        () => new Limiter({ limit: 1, windowMs: 1 }),
        `${Limiter.name}: one request per millisecond is a valid, if odd, policy`,
      ).not.toThrow();
    }
  });
});
