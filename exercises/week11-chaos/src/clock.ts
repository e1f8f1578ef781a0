/**
 * Where the week's resilience code reads the time and sets its timers. Production passes
 * `systemClock`; the tests pass a clock they move by hand, so every timeout, reset timeout
 * and window boundary happens exactly when the test says, with no fake timers.
 */
export interface Clock {
  /** Milliseconds since the epoch, like Date.now(). */
  now(): number;
  /**
   * Calls `callback` once, `ms` milliseconds from now (never synchronously). Returns a
   * function that cancels the timer; calling it after the timer fired does nothing.
   */
  setTimer(ms: number, callback: () => void): () => void;
}

/** The wall clock and the real timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (ms, callback) => {
    const timer = setTimeout(callback, ms);
    return () => clearTimeout(timer);
  },
};
