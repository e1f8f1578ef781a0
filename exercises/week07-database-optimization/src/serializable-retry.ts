// Kata: transactions (2 of 3: retrying serializable transactions; see also src/transfers.ts,
// src/on-call.ts)
//
// SERIALIZABLE makes Postgres promise that committed transactions behave as if they had run
// one after another. It keeps that promise by aborting a transaction whose reads and writes
// could not fit any serial order: SQLSTATE 40001 (serialization_failure). A deadlock victim
// gets 40P01. Neither is a bug: the application is expected to run the transaction again,
// and "again" means all of it, reads and decisions included. Re-running only the statement
// that failed, or re-using a value read in the aborted attempt, brings the anomaly back.
//
// Build withSerializableRetry(pool, work, options):
// - every attempt is a new transaction: BEGIN ISOLATION LEVEL SERIALIZABLE, work(client),
//   COMMIT (which can fail with 40001 too); any error rolls the attempt back;
// - on 40001 or 40P01 (the error's `code`), and while attempts remain, wait and run the whole
//   attempt again; answer the result of the attempt that committed;
// - any other error is rethrown at once, after one attempt; after maxAttempts failed attempts
//   the last error is rethrown as it is;
// - before retry n (n = 1 after the first failure) wait "full jitter": a whole number of ms,
//   floor(random() * min(maxDelayMs, baseDelayMs * 2 ** (n - 1))), with options.sleep;
//   call onRetry first with the attempt that failed, the delay and the error;
// - every client goes back to the pool, and a broken one is released with its error.
// Tests: tests/serializable-retry.test.ts (npm run check week7 transactions).
// Keep the exported names and signatures: the tests import them.

import type pg from "pg";
import { NotImplementedError } from "#kata";

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

/** Runs `work` in a SERIALIZABLE transaction, again from the start on 40001 or 40P01. */
export async function withSerializableRetry<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  // TODO: loop over attempts: connect, BEGIN ISOLATION LEVEL SERIALIZABLE, work, COMMIT;
  // TODO: on error ROLLBACK; retry only RETRYABLE_SQLSTATES, with the full-jitter delay.
  throw new NotImplementedError("transactions");
}
