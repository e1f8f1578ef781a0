// Kata `retrying-worker`, part 2: the policy of retry-policy.ts, wired into a BullMQ worker.
//
// The worker charges cards through a payment provider that sometimes answers 503, sometimes
// 429 with a Retry-After, and sometimes 404 for good. Build `startRetryingWorker` so that it:
// - validates each job against the contract before calling its handler (a bad payload, an
//   unknown command or a missing handler fails the job without retries, with a reason that
//   names what is wrong: the bad field, e.g. "amountCents: ...", or the command's name);
// - retries transient failures by the policy, through BullMQ's custom backoff strategy;
// - fails permanent failures at once, by throwing BullMQ's UnrecoverableError;
// - records every failed attempt in the job's log, and copies each job BullMQ finally gave up
//   on into a dead-letter queue, as a DeadLetter with that history. "Gave up" has three
//   causes: the last attempt failed, the failure was permanent, or the backoff strategy said
//   -1 (a Retry-After beyond maxDelayMs) with attempts left. A fourth comes from BullMQ
//   itself: a job that stalled more than maxStalledCount times (its worker died with it) is
//   failed when a worker next fetches it; that worker emits 'failed' without calling the
//   processor, so nothing of yours logged that attempt, and the letter's history must still
//   end with it (attempt = attemptsMade, reason = failedReason).
// - The dead-letter queue is a BullMQ queue nobody consumes: a letter may wait there as you
//   like (plain, with a priority or a delay); the tests read it in any of those states.
// `retryJobOptions` gives the job options a producer must set for all this to apply.
// Tests: tests/retrying-worker.test.ts (`npm run check week6 retrying-worker`).
// Keep the exported names and signatures: the tests import them.

import type { Job, JobsOptions, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { NotImplementedError } from "#kata";
import type { CommandName, CommandPayload } from "./contract";
import type { RetryPolicy } from "./retry-policy";

/** The custom backoff type jobs must carry for the worker's backoffStrategy to be used. */
export const BACKOFF_TYPE = "retry-policy";

/** What a worker does for each command; a handler throws to fail the attempt. */
export type CommandHandlers = {
  [N in CommandName]?: (payload: CommandPayload<N>, job: Job) => Promise<unknown>;
};

/** One failed attempt, as recorded in the job's log. */
export interface FailureRecord {
  readonly attempt: number;
  readonly reason: string;
  /** ISO-8601 time of the failure. */
  readonly at: string;
}

/** The data of a dead-letter job: the original command and why it died. */
export interface DeadLetter {
  readonly queue: string;
  readonly jobId: string;
  readonly name: string;
  readonly data: unknown;
  readonly attemptsMade: number;
  readonly failedReason: string;
  /** Every failed attempt, oldest first. */
  readonly failures: readonly FailureRecord[];
}

export interface RetryingWorkerOptions {
  readonly queueName: string;
  /** Needs maxRetriesPerRequest: null. Not closed by close(): the caller owns it. */
  readonly connection: Redis;
  /** BullMQ key prefix of both the queue and the dead-letter queue. */
  readonly prefix: string;
  readonly handlers: CommandHandlers;
  readonly policy: RetryPolicy;
  /** Name of the dead-letter queue (a BullMQ queue nobody consumes automatically). */
  readonly deadLetterQueue: string;
  /** Source of jitter, in [0, 1). Defaults to Math.random. */
  readonly random?: () => number;
  /** Clock for Retry-After dates and failure records. Defaults to Date.now. */
  readonly now?: () => number;
  readonly concurrency?: number;
  /** Where errors of the worker itself go (a failed dead-lettering). Defaults to console.error. */
  readonly onError?: (error: unknown) => void;
}

export interface RetryingWorker {
  readonly worker: Worker;
  /** Stops the worker and waits for in-flight dead-lettering. Safe to call twice. */
  close(): Promise<void>;
}

/** The job options a producer must set so that jobs are retried by this policy. */
export function retryJobOptions(policy: RetryPolicy): JobsOptions {
  // TODO: validate the policy; return its attempts and a backoff of type BACKOFF_TYPE.
  throw new NotImplementedError("retrying-worker");
}

/**
 * Starts a worker that validates each job against the contract, runs its handler, retries
 * transient failures by the policy (honouring Retry-After), fails permanent ones at once, and
 * copies every job that is finally failed into the dead-letter queue with its failure history.
 */
export function startRetryingWorker(options: RetryingWorkerOptions): RetryingWorker {
  // TODO: a Worker whose processor validates, dispatches, logs each failure (job.log) and
  //       rethrows transient errors as Error objects and permanent ones as UnrecoverableError.
  // TODO: settings.backoffStrategy = retryDelayMs with the injected random and clock.
  // TODO: on 'failed', if the job's state is 'failed', add a DeadLetter to the dead-letter
  //       queue (a custom job id may not be an integer); close() waits for those writes.
  throw new NotImplementedError("retrying-worker");
}
