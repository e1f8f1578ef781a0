/**
 * Where the week's code reads the time. Production passes `systemClock`; tests pass a clock they
 * move by hand (`manualClock()` from `#fixtures/clock` has this shape), so a duration, a burn
 * rate window or a log timestamp is exactly what the test says.
 */
export interface Clock {
  /** Milliseconds since the epoch, like Date.now(). */
  now(): number;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() };
