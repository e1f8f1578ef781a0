import { type ManualClock, manualClock } from "#fixtures/clock";
import { describe, expect, it } from "vitest";
import { SloBurnRate, SRE_WORKBOOK_RULES } from "../src/slo-burn-rate";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * `minutes` minutes of traffic, `perMinute` requests each, `badRatio` of them failing. Events
 * are recorded in the middle of each minute, so no window edge falls on them.
 */
function traffic(slo: SloBurnRate, clock: ManualClock, minutes: number, badRatio: number, perMinute = 1000): void {
  for (let i = 0; i < minutes; i++) {
    clock.advance(MINUTE / 2);
    slo.record(perMinute, Math.round(perMinute * badRatio));
    clock.advance(MINUTE / 2);
  }
}

function threeNines(clock: ManualClock): SloBurnRate {
  return new SloBurnRate({ objective: 0.999, clock });
}

describe("burn rate", () => {
  it("is the error ratio over the window divided by the error budget", () => {
    const clock = manualClock();
    const slo = new SloBurnRate({ objective: 0.99, clock });
    traffic(slo, clock, 60, 0.02);
    expect(slo.errorRatio(HOUR)).toBeCloseTo(0.02, 9);
    expect(slo.burnRate(HOUR), "2 % errors against a 1 % budget spends it twice as fast as allowed").toBeCloseTo(2, 6);
    expect(slo.burnRate(5 * MINUTE)).toBeCloseTo(2, 6);
  });

  it("is 0 with no traffic at all", () => {
    const clock = manualClock();
    const slo = threeNines(clock);
    expect(slo.burnRate(HOUR), "no requests spend no budget (and 0/0 must not be NaN)").toBe(0);
    expect(slo.evaluate()).toEqual({ page: false, ticket: false, firing: [] });
  });

  it("counts events the moment they are recorded, every one of them", () => {
    const clock = manualClock();
    const slo = threeNines(clock);
    slo.record(10, 1);
    slo.record(10, 3);
    expect(
      slo.errorRatio(5 * MINUTE),
      "the current bucket is part of the window; two records in one minute add up",
    ).toBeCloseTo(0.2, 9);
  });

  it("sees an event at the far edge of its longest window", () => {
    const clock = manualClock();
    const slo = threeNines(clock);
    clock.advance(50_000);
    slo.record(1, 1);
    clock.advance(3 * DAY - 10_000);
    expect(
      slo.errorRatio(3 * DAY),
      "10 s younger than 3 days: a window not aligned to minutes spans 4,321 minute buckets, and the ring must hold them all",
    ).toBe(1);
  });

  it("only counts events inside the window", () => {
    const clock = manualClock();
    const slo = threeNines(clock);
    traffic(slo, clock, 10, 1);
    traffic(slo, clock, 60, 0);
    expect(slo.errorRatio(30 * MINUTE), "the bad minutes are more than half an hour old").toBe(0);
    expect(slo.errorRatio(HOUR + 10 * MINUTE) > 0.1, "a window of 70 minutes still sees them").toBe(true);
  });
});

describe("multiwindow, multi-burn-rate alerts (Google SRE workbook)", () => {
  it("pages within a couple of minutes of a full outage, by the workbook's rules", () => {
    expect(SRE_WORKBOOK_RULES, "the SRE workbook's table for a 30-day SLO").toEqual([
      { severity: "page", longWindowMs: HOUR, shortWindowMs: 5 * MINUTE, burnRate: 14.4 },
      { severity: "page", longWindowMs: 6 * HOUR, shortWindowMs: 30 * MINUTE, burnRate: 6 },
      { severity: "ticket", longWindowMs: 3 * DAY, shortWindowMs: 6 * HOUR, burnRate: 1 },
    ]);
    const clock = manualClock();
    const slo = threeNines(clock);
    traffic(slo, clock, 7 * 60, 0);
    expect(slo.evaluate().page, "healthy traffic pages no one").toBe(false);
    traffic(slo, clock, 2, 1);
    const alert = slo.evaluate();
    expect(alert.page, "2 minutes of 100 % errors spend 3 % of a month's budget: 14.4x over the hour").toBe(true);
    expect(alert.firing).toContainEqual(SRE_WORKBOOK_RULES[0]);
  });

  it("stops paging once the short windows are clean, while the long windows still burn", () => {
    const clock = manualClock();
    const slo = threeNines(clock);
    traffic(slo, clock, 7 * 60, 0);
    traffic(slo, clock, 10, 1);
    expect(slo.evaluate().page).toBe(true);
    traffic(slo, clock, 31, 0);
    expect(slo.burnRate(HOUR) > 14.4, "the hour still holds the outage").toBe(true);
    expect(
      slo.evaluate().page,
      "the fire is out: a long window alone would keep paging for an hour after recovery",
    ).toBe(false);
  });

  it("does not page for a short spike that barely dents the budget", () => {
    const clock = manualClock();
    const slo = threeNines(clock);
    traffic(slo, clock, 7 * 60, 0);
    traffic(slo, clock, 1, 0.2);
    expect(slo.burnRate(5 * MINUTE) > 14.4, "the short window alone sees a big burn").toBe(true);
    expect(slo.evaluate(), "a short window alone pages on every blip: that is what the long window is for").toEqual({
      page: false,
      ticket: false,
      firing: [],
    });
  });

  it("pages on a slow burn once six hours of it add up, not before", () => {
    const clock = manualClock();
    const slo = threeNines(clock);
    traffic(slo, clock, 6 * 60, 0);
    traffic(slo, clock, 5 * 60, 0.007);
    expect(slo.burnRate(HOUR), "7x is under the 1-hour rule's 14.4").toBeCloseTo(7, 6);
    expect(slo.evaluate().page, "five hours of 7x over six is 5.8x: not yet").toBe(false);
    traffic(slo, clock, 70, 0.007);
    const alert = slo.evaluate();
    expect(alert.page, "six hours at 7x spends 5 % of the month: the 6-hour rule pages").toBe(true);
    expect(alert.firing).toContainEqual(SRE_WORKBOOK_RULES[1]);
    expect(alert.firing).not.toContainEqual(SRE_WORKBOOK_RULES[0]);
  });

  it("opens a ticket, without paging, for a burn of 1.5 over three days", () => {
    const clock = manualClock();
    const slo = threeNines(clock);
    traffic(slo, clock, 3 * 24 * 60, 0.0015, 100_000);
    const alert = slo.evaluate();
    expect(alert, "at 1.5x the budget lasts 20 days instead of 30: someone should look, tomorrow").toEqual({
      page: false,
      ticket: true,
      firing: [SRE_WORKBOOK_RULES[2]],
    });
  });

  it("fires only while both windows burn strictly faster than the rule's rate", () => {
    const clock = manualClock();
    const rules = [{ severity: "page" as const, longWindowMs: 10 * MINUTE, shortWindowMs: 10 * MINUTE, burnRate: 1 }];
    // A budget of exactly 0.5 and an error ratio of exactly 0.5: a burn rate of exactly 1.
    const slo = new SloBurnRate({ objective: 0.5, clock, rules });
    traffic(slo, clock, 20, 0.5, 2);
    expect(slo.burnRate(10 * MINUTE)).toBe(1);
    expect(slo.evaluate().page, "1x is spending the budget exactly as planned: no alert").toBe(false);
  });

  it("needs both windows over the rate: a long window exactly at it does not fire, nor a short one", () => {
    const rules = [{ severity: "page" as const, longWindowMs: 20 * MINUTE, shortWindowMs: 5 * MINUTE, burnRate: 1 }];
    const longAtRate = manualClock();
    const a = new SloBurnRate({ objective: 0.5, clock: longAtRate, rules });
    traffic(a, longAtRate, 15, 1 / 3, 3);
    traffic(a, longAtRate, 5, 1, 3);
    expect(a.burnRate(20 * MINUTE), "(15 + 15) bad of 60 over 20 minutes: exactly the rate").toBe(1);
    expect(a.burnRate(5 * MINUTE)).toBe(2);
    expect(a.evaluate().page, "the long window is not strictly above 1x").toBe(false);
    const shortAtRate = manualClock();
    const b = new SloBurnRate({ objective: 0.5, clock: shortAtRate, rules });
    traffic(b, shortAtRate, 15, 1, 2);
    traffic(b, shortAtRate, 5, 0.5, 2);
    expect(b.burnRate(5 * MINUTE), "half of the last 5 minutes failed: exactly the rate").toBe(1);
    expect(b.burnRate(20 * MINUTE)).toBeGreaterThan(1);
    expect(b.evaluate().page, "the short window is not strictly above 1x").toBe(false);
  });

  it("takes its own rules", () => {
    const clock = manualClock();
    const rules = [{ severity: "page" as const, longWindowMs: 10 * MINUTE, shortWindowMs: MINUTE, burnRate: 2 }];
    const slo = new SloBurnRate({ objective: 0.9, clock, rules });
    traffic(slo, clock, 10, 0.25);
    expect(slo.evaluate()).toEqual({ page: true, ticket: false, firing: rules });
    traffic(slo, clock, 10, 0.15);
    expect(slo.evaluate().page, "1.5x is under this rule's 2x").toBe(false);
  });
});

describe("bounded memory over a long-running process", () => {
  it("forgets events older than its longest window, also when the clock lands on a reused slot", () => {
    const clock = manualClock();
    const slo = threeNines(clock);
    traffic(slo, clock, 10, 1);
    for (let minute = 0; minute < 5 * 24 * 60; minute++) {
      traffic(slo, clock, 1, 0);
      if (minute > 6 && slo.errorRatio(5 * MINUTE) !== 0) {
        expect.fail(
          `after ${minute} minutes, errors from five days ago reappear: a reused bucket must start from zero`,
        );
      }
    }
    expect(slo.errorRatio(3 * DAY)).toBe(0);
  });

  it("clamps a clock that steps back to the latest time seen", () => {
    const clock = manualClock();
    const slo = threeNines(clock);
    traffic(slo, clock, 10, 0);
    clock.advance(-HOUR);
    slo.record(100, 100);
    clock.advance(HOUR);
    expect(slo.errorRatio(MINUTE) > 0, "the events count as now, not an hour ago").toBe(true);
  });
});

describe("validation", () => {
  it("refuses what cannot be an SLO or an alert with RangeError", () => {
    const clock = manualClock();
    for (const objective of [0, 1, 1.5, -0.1, Number.NaN])
      expect(() => new SloBurnRate({ objective, clock }), `objective ${objective}`).toThrow(RangeError);
    const rule = { severity: "page" as const, longWindowMs: HOUR, shortWindowMs: 5 * MINUTE, burnRate: 14.4 };
    expect(
      () => new SloBurnRate({ objective: 0.99, clock, rules: [{ ...rule, shortWindowMs: 2 * HOUR }] }),
      "short longer than long",
    ).toThrow(RangeError);
    expect(() => new SloBurnRate({ objective: 0.99, clock, rules: [{ ...rule, burnRate: 0 }] })).toThrow(RangeError);
    expect(() => new SloBurnRate({ objective: 0.99, clock, rules: [{ ...rule, longWindowMs: -1 }] })).toThrow(
      RangeError,
    );
    expect(
      () => new SloBurnRate({ objective: 0.99, clock, resolutionMs: 10 * MINUTE }),
      "coarser than the 5-minute window",
    ).toThrow(RangeError);
    expect(() => new SloBurnRate({ objective: 0.99, clock, resolutionMs: 0 })).toThrow(RangeError);
    const slo = new SloBurnRate({ objective: 0.99, clock });
    expect(() => slo.record(10, 11), "more bad events than events").toThrow(RangeError);
    expect(() => slo.record(10, -1)).toThrow(RangeError);
    expect(() => slo.record(Number.NaN, 0)).toThrow(RangeError);
    expect(() => slo.burnRate(0)).toThrow(RangeError);
  });
});
