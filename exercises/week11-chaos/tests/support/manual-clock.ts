/**
 * A Clock (src/clock.ts) whose time moves only when the test says so, with timers that fire
 * when their time comes. `advance` lets promise chains settle after every timer, so code
 * that awaits a timer sees it exactly as it would in real time, only instantly.
 */
import { DEFAULT_START_MS } from "#fixtures/clock";
import type { Clock } from "../../src/clock";

export interface TestClock extends Clock {
  /** Moves time forward by `ms`, firing due timers in order and settling promises after each. */
  advance(ms: number): Promise<void>;
  /** Timers set and not yet fired or cancelled. */
  pendingTimers(): number;
}

/** Lets every queued promise callback run (a few macrotask turns; no I/O involved). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

export function testClock(start = DEFAULT_START_MS): TestClock {
  let now = start;
  let sequence = 0;
  const timers = new Map<number, { at: number; callback: () => void }>();
  return {
    now: () => now,
    setTimer(ms, callback) {
      const id = ++sequence;
      timers.set(id, { at: now + Math.max(0, ms), callback });
      return () => timers.delete(id);
    },
    async advance(ms) {
      const target = now + ms;
      await settle();
      for (;;) {
        let next: [number, { at: number; callback: () => void }] | undefined;
        for (const entry of timers) if (entry[1].at <= target && (!next || entry[1].at < next[1].at)) next = entry;
        if (!next) break;
        timers.delete(next[0]);
        now = next[1].at;
        next[1].callback();
        await settle();
      }
      now = target;
      await settle();
    },
    pendingTimers: () => timers.size,
  };
}

/** The system clock and real timers, with a `now()` the test can move forward by hand. */
export function shiftableClock(): Clock & { shift(ms: number): void } {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    setTimer: (ms, callback) => {
      const timer = setTimeout(callback, ms);
      return () => clearTimeout(timer);
    },
    shift: (ms) => {
      offset += ms;
    },
  };
}
