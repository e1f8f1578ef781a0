// Reference solution for the `retrying-worker` kata, part 2: the policy wired into BullMQ,
// with permanent failures short-circuited and exhausted jobs dead-lettered.

import { Queue, UnrecoverableError, Worker, type Job, type JobsOptions } from "bullmq";
import type { Redis } from "ioredis";
import { commandSchemas, isCommandName, type CommandName, type CommandPayload } from "./contract";
import { assertRetryPolicy, classifyFailure, retryDelayMs, type RetryPolicy } from "./retry-policy";

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
  assertRetryPolicy(policy);
  // No keepLogs: it would count the handler's own log lines too and push failure records out.
  // The log goes when the job goes, so the job's retention bounds it.
  return { attempts: policy.attempts, backoff: { type: BACKOFF_TYPE } };
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

function parseFailure(line: string): FailureRecord | undefined {
  try {
    const record = JSON.parse(line) as Partial<FailureRecord>;
    return typeof record.attempt === "number" && typeof record.reason === "string" && typeof record.at === "string"
      ? { attempt: record.attempt, reason: record.reason, at: record.at }
      : undefined;
  } catch {
    return undefined; // someone else's log line
  }
}

/**
 * Starts a worker that validates each job against the contract, runs its handler, retries
 * transient failures by the policy (honouring Retry-After), fails permanent ones at once, and
 * copies every job that is finally failed into the dead-letter queue with its failure history.
 */
export function startRetryingWorker(options: RetryingWorkerOptions): RetryingWorker {
  const { queueName, connection, prefix, handlers, policy } = options;
  assertRetryPolicy(policy);
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const onError = options.onError ?? ((error: unknown) => console.error(error));

  const source = new Queue(queueName, { connection, prefix });
  const deadLetters = new Queue<DeadLetter>(options.deadLetterQueue, { connection, prefix });

  async function run(job: Job): Promise<unknown> {
    // The queue is a trust boundary: an old deploy or a hand-made job can put anything there.
    if (!isCommandName(job.name)) throw new UnrecoverableError(`no such command: ${job.name}`);
    const handler = handlers[job.name] as ((payload: unknown, job: Job) => Promise<unknown>) | undefined;
    if (!handler) throw new UnrecoverableError(`this worker has no handler for ${job.name}`);
    const parsed = commandSchemas[job.name].safeParse(job.data);
    if (!parsed.success) {
      const where = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(payload)"}: ${issue.message}`);
      throw new UnrecoverableError(`payload breaks the ${job.name} contract: ${where.join("; ")}`);
    }
    return handler(parsed.data, job);
  }

  const worker = new Worker(
    queueName,
    async (job: Job) => {
      try {
        return await run(job);
      } catch (error) {
        const reason = messageOf(error);
        const record: FailureRecord = { attempt: job.attemptsMade + 1, reason, at: new Date(now()).toISOString() };
        // The history is a diagnostic: losing a line must not change the job's fate.
        await job.log(JSON.stringify(record)).catch(onError);
        if (classifyFailure(error) === "permanent") {
          throw error instanceof UnrecoverableError ? error : new UnrecoverableError(reason);
        }
        // BullMQ records failures from Error objects only; a thrown string would lose its reason.
        throw error instanceof Error ? error : new Error(reason);
      }
    },
    {
      connection,
      prefix,
      concurrency: options.concurrency ?? 1,
      settings: {
        backoffStrategy: (attemptsMade, _type, error) => retryDelayMs(attemptsMade, error, policy, random, now()),
      },
    },
  );
  worker.on("error", onError);

  async function deadLetter(job: Job): Promise<void> {
    // 'failed' fires for every failed attempt; only a job BullMQ gave up on is dead.
    if ((await job.getState()) !== "failed") return;
    const { logs } = await source.getJobLogs(job.id!);
    const failures = logs.map(parseFailure).filter((record): record is FailureRecord => record !== undefined);
    // A job failed by BullMQ itself (stalled too often) never reached the processor's catch.
    if (failures.at(-1)?.attempt !== job.attemptsMade) {
      failures.push({ attempt: job.attemptsMade, reason: job.failedReason, at: new Date(now()).toISOString() });
    }
    const letter: DeadLetter = {
      queue: queueName,
      jobId: job.id!,
      name: job.name,
      data: job.data,
      attemptsMade: job.attemptsMade,
      failedReason: job.failedReason,
      failures,
    };
    // One letter per final failure: a job replayed by hand that fails again gets a second one.
    // The failed set stays the source of truth: a crash between BullMQ failing the job and this
    // add loses the copy, never the job.
    await deadLetters.add(job.name, letter);
  }

  const pending = new Set<Promise<void>>();
  worker.on("failed", (job) => {
    if (!job) return;
    const task = deadLetter(job).catch(onError);
    pending.add(task);
    void task.finally(() => pending.delete(task));
  });

  let closing: Promise<void> | undefined;
  return {
    worker,
    close: () =>
      (closing ??= (async () => {
        await worker.close();
        await Promise.all(pending);
        await Promise.all([source.close(), deadLetters.close()]);
      })()),
  };
}
