// Reference solution for the `transactions` kata, the retry loop: a serialization failure
// aborts the whole transaction, so the whole transaction (reads, decisions and writes) runs
// again, in a new snapshot, after a jittered and capped wait.

import type pg from "pg";

/** What one retry is about to do, for logs and metrics. */
export interface RetryEvent {
  /** The attempt that just failed: 1 for the first. */
  readonly attempt: number;
  /** The wait before the next attempt. */
  readonly delayMs: number;
  readonly error: unknown;
}

export interface RetryOptions {
  /** Attempts in all, the first one included; default 10. */
  readonly maxAttempts?: number;
  /** Ceiling of the first retry's delay; it doubles for each retry after. Default 5 ms. */
  readonly baseDelayMs?: number;
  /** The largest ceiling any delay may have; default 250 ms. */
  readonly maxDelayMs?: number;
  /** Uniform in [0, 1); default Math.random. */
  readonly random?: () => number;
  /** Waits `ms` milliseconds; default a timer. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Called before each wait. */
  readonly onRetry?: (event: RetryEvent) => void;
}

/** serialization_failure and deadlock_detected: the transaction may succeed if run again. */
export const RETRYABLE_SQLSTATES: readonly string[] = ["40001", "40P01"];

const DEFAULTS = { maxAttempts: 10, baseDelayMs: 5, maxDelayMs: 250 };
const timer = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function retryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && RETRYABLE_SQLSTATES.includes(code);
}

/** Runs `work` in a SERIALIZABLE transaction, again from the start on 40001 or 40P01. */
export async function withSerializableRetry<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const maxAttempts = options.maxAttempts ?? DEFAULTS.maxAttempts;
  const baseDelayMs = options.baseDelayMs ?? DEFAULTS.baseDelayMs;
  const maxDelayMs = options.maxDelayMs ?? DEFAULTS.maxDelayMs;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? timer;

  for (let attempt = 1; ; attempt++) {
    try {
      return await attemptOnce(pool, work);
    } catch (error) {
      if (!retryable(error) || attempt >= maxAttempts) throw error;
      // Full jitter: contenders that collided once spread over the whole window instead of
      // colliding again in lockstep; the cap keeps the worst wait bounded.
      const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      const delayMs = Math.floor(random() * ceiling);
      options.onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs);
    }
  }
}

/** One transaction on one client: committed, or rolled back and the error rethrown. */
async function attemptOnce<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("BEGIN ISOLATION LEVEL SERIALIZABLE");
    const result = await work(client);
    // COMMIT is where SSI often detects the conflict: it can fail with 40001 like any statement.
    await client.query("COMMIT");
    return result;
  } catch (error) {
    // After a failed COMMIT the transaction is already over, and ROLLBACK only warns.
    await client.query("ROLLBACK").catch((rollbackError: unknown) => {
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    });
    throw error;
  } finally {
    // A client whose ROLLBACK failed may be mid-transaction or disconnected: discard it.
    client.release(broken);
  }
}
