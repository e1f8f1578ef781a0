// Reference solution for the `idempotent-consumer` kata: at-least-once delivery in, exactly
// one effect out, by committing the inbox record and the effect in one transaction.

import { UnrecoverableError, type Job, type Processor } from "bullmq";
import type pg from "pg";
import { commandSchemas, type CommandPayload } from "./contract";

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

/**
 * The inbox key of a job. A custom id (the producer derives one from the client's
 * Idempotency-Key) names one request and is meant to repeat; only the queue scopes it. BullMQ's
 * own ids are a counter, 1, 2, 3, ... in every queue, and the counter starts again when a
 * queue's keys are lost (a Redis without persistence restarts, someone obliterates the queue):
 * the job's creation time tells those apart, and stays the same across its retries and stalls.
 */
function messageIdOf(job: Pick<Job, "id" | "queueQualifiedName" | "timestamp">): string {
  if (job.id === undefined) throw new UnrecoverableError("a job without an id cannot be deduplicated");
  const scoped = `${job.queueQualifiedName}:${job.id}`;
  return /^\d+$/.test(job.id) ? `${scoped}@${job.timestamp}` : scoped;
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
    const client = await this.pool.connect();
    let broken = false;
    let outcome: Outcome;
    try {
      await client.query("BEGIN");
      // Claim the message before touching the account. The primary key serialises concurrent
      // deliveries: a second INSERT of the same id waits until the first transaction ends, then
      // inserts (the first rolled back) or does nothing (it committed).
      const claim = await client.query(
        "INSERT INTO processed_messages (message_id) VALUES ($1) ON CONFLICT (message_id) DO NOTHING",
        [messageId],
      );
      if (claim.rowCount === 0) {
        // Read committed: this statement sees the row the winner committed, result included.
        const { rows } = await client.query<{ result: CreditResult }>(
          "SELECT result FROM processed_messages WHERE message_id = $1",
          [messageId],
        );
        await client.query("ROLLBACK");
        return { status: "duplicate", result: rows[0]!.result };
      }

      // The increment happens in SQL, under the row lock: read-modify-write in the application
      // would lose updates between two different messages for the same account.
      const credited = await client.query<{ balance_cents: string }>(
        "UPDATE accounts SET balance_cents = balance_cents + $2 WHERE id = $1 RETURNING balance_cents",
        [command.accountId, command.amountCents],
      );
      if (credited.rowCount === 0) throw new UnknownAccountError(command.accountId);
      // bigint arrives as a string; balances stay far below 2^53 cents.
      const result: CreditResult = {
        accountId: command.accountId,
        balanceCents: Number(credited.rows[0]!.balance_cents),
      };
      await client.query("UPDATE processed_messages SET result = $2 WHERE message_id = $1", [
        messageId,
        JSON.stringify(result),
      ]);

      await this.hooks.beforeCommit?.(messageId);
      await client.query("COMMIT");
      outcome = { status: "applied", result };
    } catch (error) {
      // Rolling back also releases the claim, so a redelivery can apply the message.
      await client.query("ROLLBACK").catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      // A client whose ROLLBACK failed may sit in an aborted transaction: destroy it, never reuse it.
      client.release(broken);
    }
    // A crash from here until the ack is the case idempotency exists for: the effect is
    // committed, the queue will deliver again, and the claim turns that into a duplicate.
    await this.hooks.afterCommit?.(messageId);
    return outcome;
  }

  /**
   * A BullMQ processor for credit-account jobs. The message id is the job's (messageIdOf): with
   * the producer's deterministic ids, one client request is one id from HTTP to Postgres.
   */
  processor(): Processor<unknown, Outcome> {
    return async (job: Job<unknown, Outcome>) => {
      const parsed = commandSchemas["credit-account"].safeParse(job.data);
      if (!parsed.success) {
        throw new UnrecoverableError(
          `credit-account payload breaks the contract: ${parsed.error.issues.map((i) => i.message).join("; ")}`,
        );
      }
      const messageId = messageIdOf(job);
      try {
        return await this.handle(messageId, parsed.data);
      } catch (error) {
        if (error instanceof UnknownAccountError) throw new UnrecoverableError(error.message);
        throw error;
      }
    };
  }
}
