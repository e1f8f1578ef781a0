/** Raised by `withTimeout`; carries the bound that was exceeded. */
export class TimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly ms: number,
  ) {
    super(`${what} did not finish within ${ms} ms`);
    this.name = "TimeoutError";
  }
}

/**
 * Settles like `promise`, or rejects with a TimeoutError after `ms`. The work behind the
 * promise is not cancelled, so callers pass `onTimeout` to tear it down (close a socket).
 */
export function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
  onTimeout?: () => void,
  options: { keepAlive?: boolean } = {},
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new TimeoutError(what, ms));
    }, ms);
    // A pending bound must not keep the checker alive on its own, unless the caller waits
    // on something that does not hold the event loop itself (an unref'd child's exit).
    if (!options.keepAlive) timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Calls `attempt` every `intervalMs` until it returns a value other than undefined, `giveUp`
 * returns a reason, or `timeoutMs` passes; resolves to the value or rejects with why it stopped.
 */
export async function pollUntil<T>(
  attempt: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs: number; what: string; giveUp?: () => string | undefined },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const stop = options.giveUp?.();
    if (stop !== undefined) throw new Error(stop);
    const value = await attempt();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new TimeoutError(options.what, options.timeoutMs);
    await sleep(options.intervalMs);
  }
}

/** The message of anything thrown, on one line. */
export function reasonOf(error: unknown): string {
  const text = error instanceof Error ? error.message || error.name : String(error);
  return text.replace(/\s+/g, " ").trim();
}
