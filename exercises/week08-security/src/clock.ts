/**
 * Where security code reads the time: token expiry, refresh-token lifetimes, audit stamps.
 * Production passes `systemClock`; tests pass a clock they move by hand (`manualClock()` from
 * `#fixtures/clock` has this shape), so "expired by one second" happens exactly when the test
 * says, with no fake timers around real sockets.
 */
export interface Clock {
  /** Milliseconds since the epoch, like Date.now(). */
  now(): number;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() };
