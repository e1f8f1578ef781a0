// Kata `idempotent-consumer`: exactly one effect per message, although the queue delivers
// at least once.
//
// BullMQ redelivers a job when its attempt fails, when its worker dies (stalled job), or when
// the worker dies after the effect but before the ack. `CreditConsumer.handle` credits an
// account (an UPDATE that is not idempotent on its own) and must do it once per message id:
// - the inbox record (processed_messages, see ledger-schema.ts) and the effect commit in one
//   transaction, with INSERT ... ON CONFLICT DO NOTHING as the claim;
// - a redelivery, even a concurrent one, answers "duplicate" with the first delivery's result;
// - a failure before COMMIT leaves nothing behind (no effect, no claim), and every path hands
//   its client back to the pool in a clean state (no open transaction) rather than destroying it;
// - the hooks run at the two crash points the tests simulate, once per message: for the
//   delivery that applies it (beforeCommit just before its COMMIT, afterCommit just after).
//   A duplicate commits nothing and runs neither.
// `processor()` adapts it to BullMQ. Its message id must name the job uniquely, and stay the
// same across the job's retries and stalls: BullMQ's own ids are a counter (1, 2, 3, ...) in
// every queue, which starts again when a queue's keys are lost, while a custom id (the
// producer's, derived from the client's Idempotency-Key) names one request and is meant to
// repeat when the client retries it, even after the queue has removed the first job.
// Tests: tests/idempotent-consumer.test.ts (`npm run check week6 idempotent-consumer`).
// Keep the exported names and signatures: the tests import them.

import type { Processor } from "bullmq";
import type pg from "pg";
import { NotImplementedError } from "#kata";
import type { CommandPayload } from "./contract";

export type CreditCommand = CommandPayload<"credit-account">;

/** What applying a credit answered: the balance right after it. */
export interface CreditResult {
  readonly accountId: string;
  readonly balanceCents: number;
}

/** "applied" the first time; "duplicate" for every redelivery, with the first delivery's result. */
export interface Outcome {
  readonly status: "applied" | "duplicate";
  readonly result: CreditResult;
}

/** The account does not exist: no redelivery will change that. */
export class UnknownAccountError extends Error {
  readonly code = "ERR_UNKNOWN_ACCOUNT";

  constructor(readonly accountId: string) {
    super(`unknown account ${accountId}`);
    this.name = "UnknownAccountError";
  }
}

/** Fault-injection points, for tests and chaos drills. */
export interface ConsumerHooks {
  /** Runs inside the transaction, after the effect, just before COMMIT. Not for a duplicate. */
  beforeCommit?(messageId: string): Promise<void> | void;
  /** Runs after COMMIT, before the outcome is returned (and so before the message is acked). Not for a duplicate. */
  afterCommit?(messageId: string): Promise<void> | void;
}

/** Applies credit-account commands to Postgres exactly once per message id. */
export class CreditConsumer {
  constructor(
    private readonly pool: pg.Pool,
    private readonly hooks: ConsumerHooks = {},
  ) {}

  /**
   * Credits the account unless `messageId` was already applied, in which case it changes
   * nothing and answers the first delivery's result. Safe under concurrent deliveries.
   */
  async handle(messageId: string, command: CreditCommand): Promise<Outcome> {
    // TODO: one client, one transaction: claim the message id (ON CONFLICT DO NOTHING),
    //       answer the stored result if the claim found a row, else credit the account in SQL,
    //       store the result, run hooks.beforeCommit, COMMIT, run hooks.afterCommit.
    // TODO: any error before COMMIT rolls back; an unknown account is UnknownAccountError.
    throw new NotImplementedError("idempotent-consumer");
  }

  /** A BullMQ processor for credit-account jobs; the message id names the job (see the header). */
  processor(): Processor<unknown, Outcome> {
    // TODO: validate job.data against the contract, derive the message id from the job (its
    //       queue, its id, and for an auto-numbered id what else tells two jobs 1 apart), call
    //       handle, and make permanent failures (bad payload, UnknownAccountError) UnrecoverableError,
    //       keeping the message (an unknown account's names the account).
    throw new NotImplementedError("idempotent-consumer");
  }
}
