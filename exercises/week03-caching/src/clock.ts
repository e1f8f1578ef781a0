/**
 * Where the caches of this week read the time. Production passes one of the clocks below;
 * tests pass `manualClock()` from `#fixtures/clock`, which has the same `now()`.
 */
export interface Clock {
  /** Milliseconds; only differences between two readings matter, unless a kata says otherwise. */
  now(): number;
}

/**
 * Never goes backwards (NTP adjustments do not move it): right for durations and for TTLs
 * that live inside one process.
 */
export const monotonicClock: Clock = { now: () => performance.now() };

/**
 * Milliseconds since the epoch: right for instants that other processes must understand,
 * such as an expiry time stored in Redis next to a value.
 */
export const wallClock: Clock = { now: () => Date.now() };
