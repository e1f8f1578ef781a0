/**
 * Waiting without fixed sleeps: on a gate the test opens, on a condition checked until a
 * bound, or on a promise raced against a bound. Every timer is cleared once the wait is over.
 */

/** A promise the test resolves by hand (`open()`), to hold a handler or a hook where it is. */
export function gate(): { opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** Resolves when `condition` holds (checked every 20 ms); rejects with `why` after `ms`. */
export async function eventually(condition: () => boolean | Promise<boolean>, why: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up after ${ms} ms: ${why}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Retries `attempt` (every 25 ms) until `done` accepts its value or `ms` passed; answers the last value. */
export async function until<T>(attempt: () => Promise<T>, done: (value: T) => boolean, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await attempt();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** `promise`, or a rejection with `why` after `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, why: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`gave up after ${ms} ms: ${why}`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether `promise` settles (either way) within `ms`. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
