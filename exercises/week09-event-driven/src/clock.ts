/**
 * Where this week's code reads the time. Production passes `systemClock`; tests pass a clock
 * they move by hand (`manualClock()` from `#fixtures/clock` has this shape), so a lock that
 * times out, a row that is old enough to prune or an expiry happens exactly when the test says.
 */
export interface Clock {
  /** Milliseconds since the epoch, like Date.now(). */
  now(): number;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() };
