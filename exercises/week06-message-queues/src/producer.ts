// Kata `producer`: the front door of the orders queue.
//
// An HTTP handler receives a command ("send the receipt of order ord_8f3k2m9q") with an
// Idempotency-Key header and calls `CommandProducer.enqueue`. Build it so that:
// - invalid input is refused with an InvalidCommandError listing every problem, before
//   anything reaches Redis (the payload schemas are in contract.ts);
// - the BullMQ job id is derived from the command name and the idempotency key, so a retried
//   request finds its job instead of enqueueing a second one, and any key gives an id BullMQ
//   accepts (no ':' and not all digits) of at most 100 characters (it is part of Redis keys);
// - the same key with a different payload (different once parsed: " Ada@Example.com" and
//   "ada@example.com" are the same) is an IdempotencyConflictError;
// - priorities (critical, normal, bulk) and delays map onto BullMQ's options.
// Tests: tests/producer.test.ts (`npm run check week6 producer`).
// Keep the exported names and signatures: the tests import them.

import type { Queue } from "bullmq";
import { NotImplementedError } from "#kata";
import type { CommandName, CommandPayload } from "./contract";

/** One problem with a command, addressed like a form field: `payload.email`, `options.delayMs`, `name`. */
export interface CommandIssue {
  readonly path: string;
  readonly message: string;
}

/** The command was refused before anything reached Redis; `issues` lists every problem at once. */
export class InvalidCommandError extends Error {
  readonly code = "ERR_INVALID_COMMAND";

  constructor(readonly issues: readonly CommandIssue[]) {
    super(`invalid command: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join("; ")}`);
    this.name = "InvalidCommandError";
  }
}

/** The idempotency key was already used for a different payload: a client bug, never a retry. */
export class IdempotencyConflictError extends Error {
  readonly code = "ERR_IDEMPOTENCY_CONFLICT";

  constructor(readonly jobId: string) {
    super(`idempotency key already used for a different payload (job ${jobId})`);
    this.name = "IdempotencyConflictError";
  }
}

export type Priority = "critical" | "normal" | "bulk";

/** A delay longer than this is almost certainly a timestamp or seconds passed as milliseconds. */
export const MAX_DELAY_MS = 30 * 24 * 60 * 60 * 1000;

/** How long a finished job is kept, and so how long a retried request is still recognised. */
export const DEFAULT_DEDUPE_WINDOW_SECONDS = 24 * 60 * 60;

export interface EnqueueOptions {
  /** The client's Idempotency-Key: the same key means the same request, retried. 1 to 255 printable ASCII characters. */
  idempotencyKey: string;
  /** Defaults to "normal". */
  priority?: Priority;
  /** Milliseconds before the job may run: an integer from 0 to MAX_DELAY_MS. Defaults to 0. */
  delayMs?: number;
}

export interface EnqueuedCommand<N extends CommandName = CommandName> {
  readonly jobId: string;
  readonly name: N;
  /** The payload as the contract parsed it (normalised), which is what the worker receives. */
  readonly payload: CommandPayload<N>;
}

/** The part of a BullMQ Queue the producer needs. */
export type CommandQueue = Pick<Queue<CommandPayload, unknown, CommandName>, "add" | "getJob">;

export interface ProducerOptions {
  /**
   * Seconds a completed job is retained (and so deduplicates retries): a positive integer
   * (RangeError from the constructor otherwise; 0 would turn deduplication off). Defaults to one day.
   */
  dedupeWindowSeconds?: number;
}

/**
 * The BullMQ job id of a command, derived from its name and the idempotency key: the same
 * inputs give the same id, and any key gives an id without ':', not all digits, and at most
 * 100 characters long.
 */
export function jobIdFor(name: CommandName, idempotencyKey: string): string {
  // TODO: the same inputs give the same id; any key gives an id without ':' that is not an integer.
  throw new NotImplementedError("producer");
}

/** Turns untrusted commands (an HTTP body, a CLI argument) into queued jobs, exactly once per key. */
export class CommandProducer {
  constructor(
    private readonly queue: CommandQueue,
    private readonly options: ProducerOptions = {},
  ) {}

  /**
   * Validates and enqueues a command. A retry with the same key returns the same job id and
   * enqueues nothing; the same key with a different payload is an IdempotencyConflictError.
   */
  async enqueue(name: string, payload: unknown, options: EnqueueOptions): Promise<EnqueuedCommand> {
    // TODO: validate the name, the payload (commandSchemas in contract.ts) and the options;
    //       throw one InvalidCommandError with every issue before touching the queue.
    // TODO: add the job with its derived id, priority, delay and retention (removeOnComplete/removeOnFail).
    // TODO: read the stored job back and throw IdempotencyConflictError if its data differs.
    throw new NotImplementedError("producer");
  }
}
