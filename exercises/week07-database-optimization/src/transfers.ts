// Kata: transactions (1 of 3: transfers; see also src/serializable-retry.ts, src/on-call.ts)
//
// A transfer reads two balances, decides, and writes both. Run fifty of them at once over a
// pool and every shortcut shows: read-then-write without a lock loses updates (two debits
// read 100, both write 30), a check on a stale read lets an account go negative, and two
// transfers that lock the same two rows in opposite orders deadlock.
//
// Build, over src/bank-schema.ts:
// - transfer(pool, command) at READ COMMITTED: one transaction on one client; lock both
//   accounts with SELECT ... FOR UPDATE in ascending id order (whatever the direction of the
//   transfer: that total order is what makes deadlocks impossible), check the funds, write
//   both balances, COMMIT. Any failure rolls back and releases the client.
// - transferSerializable(pool, command, retry): the same transfer without row locks, at
//   SERIALIZABLE, inside withSerializableRetry (src/serializable-retry.ts): Postgres aborts
//   the conflicting transactions with 40001 (or 40P01), and they run again from the start.
// Errors: amountCents not a positive integer, or fromId === toId, is a RangeError; an account
// that does not exist is UnknownAccountError; too little money is InsufficientFundsError. None
// of them changes any balance.
// Tests: tests/transfers.test.ts (npm run check week7 transactions).
// Keep the exported names and signatures: the tests import them.

import type pg from "pg";
import { NotImplementedError } from "#kata";
import type { RetryOptions } from "./serializable-retry";

export interface TransferCommand {
  readonly fromId: number;
  readonly toId: number;
  /** A positive integer. */
  readonly amountCents: number;
}

/** The source account holds less than the amount. */
export class InsufficientFundsError extends Error {
  readonly code = "ERR_INSUFFICIENT_FUNDS";

  constructor(
    readonly accountId: number,
    readonly balanceCents: number,
    readonly amountCents: number,
  ) {
    super(`account ${accountId} holds ${balanceCents} cents, less than ${amountCents}`);
    this.name = "InsufficientFundsError";
  }
}

/** No account has this id. */
export class UnknownAccountError extends Error {
  readonly code = "ERR_UNKNOWN_ACCOUNT";

  constructor(readonly accountId: number) {
    super(`no account ${accountId}`);
    this.name = "UnknownAccountError";
  }
}

/** Moves money at READ COMMITTED, with both rows locked in id order. */
export async function transfer(pool: pg.Pool, command: TransferCommand): Promise<void> {
  // TODO: validate; BEGIN; SELECT id, balance_cents ... WHERE id IN (...) ORDER BY id FOR UPDATE;
  //       check; UPDATE both; COMMIT. ROLLBACK on any error, release the client in finally.
  throw new NotImplementedError("transactions");
}

/** Moves money at SERIALIZABLE, retrying the whole transaction on 40001 and 40P01. */
export async function transferSerializable(
  pool: pg.Pool,
  command: TransferCommand,
  retry: RetryOptions = {},
): Promise<void> {
  // TODO: validate; withSerializableRetry(pool, async (client) => { read, check, write }, retry).
  throw new NotImplementedError("transactions");
}
