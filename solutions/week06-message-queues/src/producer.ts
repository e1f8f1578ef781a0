// Reference solution for the `producer` kata: validated commands, deterministic job ids,
// priorities and delays, on BullMQ.

import { createHash } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import type { JobsOptions, Queue } from "bullmq";
import { z } from "zod";
import { COMMAND_NAMES, commandSchemas, isCommandName, type CommandName, type CommandPayload } from "./contract";

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

/**
 * BullMQ priorities: lower runs first, and 0 means "no priority", which BullMQ serves before
 * every prioritised job. So every level, normal included, is an explicit positive number.
 */
const PRIORITY_LEVELS: Readonly<Record<Priority, number>> = { critical: 1, normal: 5, bulk: 10 };

/** A delay longer than this is almost certainly a timestamp or seconds passed as milliseconds. */
export const MAX_DELAY_MS = 30 * 24 * 60 * 60 * 1000;

/** How long a finished job is kept, and so how long a retried request is still recognised. */
export const DEFAULT_DEDUPE_WINDOW_SECONDS = 24 * 60 * 60;

export interface EnqueueOptions {
  /** The client's Idempotency-Key: the same key means the same request, retried. */
  idempotencyKey: string;
  /** Defaults to "normal". */
  priority?: Priority;
  /** Milliseconds before the job may run. Defaults to 0. */
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

const optionsSchema = z.strictObject({
  // The same character set as an RFC 8941 sf-string, which is what the Idempotency-Key header carries.
  idempotencyKey: z.string().regex(/^[\x20-\x7e]{1,255}$/, "1 to 255 printable ASCII characters"),
  priority: z.enum(["critical", "normal", "bulk"]).default("normal"),
  delayMs: z.number().int().min(0).max(MAX_DELAY_MS, "at most 30 days; a timestamp is not a delay").default(0),
});

/**
 * The BullMQ job id of a command: the command name plus a digest of the idempotency key.
 * Hashing makes any key safe (BullMQ refuses ids with ':' and ids that look like integers),
 * keeps ids short, and keeps whatever the client put in its key out of Redis.
 */
export function jobIdFor(name: CommandName, idempotencyKey: string): string {
  const digest = createHash("sha256").update(idempotencyKey).digest("hex").slice(0, 32);
  return `${name}-${digest}`;
}

function issuesOf(prefix: string, error: z.ZodError): CommandIssue[] {
  const at = (path: readonly PropertyKey[]) => [prefix, ...path.map(String)].join(".");
  return error.issues.flatMap((issue): CommandIssue[] =>
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => ({ path: at([...issue.path, key]), message: "is not part of the contract" }))
      : [{ path: at(issue.path), message: issue.message }],
  );
}

/** Turns untrusted commands (an HTTP body, a CLI argument) into queued jobs, exactly once per key. */
export class CommandProducer {
  private readonly retention: number;

  constructor(
    private readonly queue: CommandQueue,
    options: ProducerOptions = {},
  ) {
    this.retention = options.dedupeWindowSeconds ?? DEFAULT_DEDUPE_WINDOW_SECONDS;
    // A window of 0 keeps no finished job and so deduplicates nothing; Infinity keeps them all forever.
    if (!Number.isSafeInteger(this.retention) || this.retention < 1) {
      throw new RangeError(`dedupeWindowSeconds must be a positive integer, got ${this.retention}`);
    }
  }

  /**
   * Validates and enqueues a command. A retry with the same key returns the same job id and
   * enqueues nothing; the same key with a different payload is an IdempotencyConflictError.
   */
  async enqueue(name: string, payload: unknown, options: EnqueueOptions): Promise<EnqueuedCommand> {
    const parsedPayload = isCommandName(name) ? commandSchemas[name].safeParse(payload) : undefined;
    const parsedOptions = optionsSchema.safeParse(options);
    // Everything is checked before the first byte goes to Redis, and reported together.
    if (!parsedPayload?.success || !parsedOptions.success) {
      throw new InvalidCommandError([
        ...(parsedPayload
          ? []
          : [{ path: "name", message: `unknown command; expected one of ${COMMAND_NAMES.join(", ")}` }]),
        ...(parsedPayload?.success === false ? issuesOf("payload", parsedPayload.error) : []),
        ...(parsedOptions.success ? [] : issuesOf("options", parsedOptions.error)),
      ]);
    }
    // A payload was parsed, so the name is a command name.
    const command = { name: name as CommandName, payload: parsedPayload.data };

    const { idempotencyKey, priority, delayMs } = parsedOptions.data;
    const jobId = jobIdFor(command.name, idempotencyKey);
    const jobOptions: JobsOptions = {
      jobId,
      priority: PRIORITY_LEVELS[priority],
      delay: delayMs,
      // BullMQ only deduplicates ids it still has: a removed job lets the same id in again.
      // Retention is therefore the deduplication window, and failed jobs stay longer for a human.
      removeOnComplete: { age: this.retention },
      removeOnFail: { age: this.retention * 7 },
    };
    // With an existing id, BullMQ adds nothing and reports no error (the add is atomic in a
    // Lua script, so concurrent retries cannot both insert).
    await this.queue.add(command.name, command.payload, jobOptions);

    // Read back what the id holds. Same data: this request or a retry of it. Different data:
    // the client reused a key for another request, which must not pass as success.
    const stored = await this.queue.getJob(jobId);
    if (stored && !isDeepStrictEqual(stored.data, command.payload)) throw new IdempotencyConflictError(jobId);
    return { jobId, name: command.name, payload: command.payload };
  }
}
