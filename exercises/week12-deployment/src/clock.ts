/**
 * Where a component reads the time. Production passes `systemClock`; tests pass a clock they
 * move by hand (`manualClock()` from `#fixtures/clock` has this shape).
 */
export interface Clock {
  /** Milliseconds since the epoch, like Date.now(). */
  now(): number;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() };
