/**
 * Where a limiter reads the time. Production passes `systemClock`; tests pass a clock they
 * move by hand (`manualClock()` from `#fixtures/clock` has this shape), so every refill and
 * every window boundary happens exactly when the test says.
 */
export interface Clock {
  /** Milliseconds since the epoch, like Date.now(). */
  now(): number;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() };
