// Reference solution for the `transactions` kata, the transfers: pessimistic (row locks taken
// in one global order) at READ COMMITTED, and optimistic (no locks, SSI aborts, whole-
// transaction retries) at SERIALIZABLE.

import type pg from "pg";
import { withSerializableRetry, type RetryOptions } from "./serializable-retry";

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

function validate(command: TransferCommand): void {
  if (!Number.isSafeInteger(command.amountCents) || command.amountCents <= 0)
    throw new RangeError("amountCents must be a positive integer");
  if (command.fromId === command.toId) throw new RangeError("a transfer needs two different accounts");
}

/**
 * Reads both balances (locking them when `lock`), checks the source's funds and writes both.
 * The writes are relative (balance ± amount) so they are right even for a reader that did
 * not lock; the check is only right because the rows cannot change after the read (a lock,
 * or SERIALIZABLE aborting the transaction if they did).
 */
async function move(client: pg.PoolClient, command: TransferCommand, lock: boolean): Promise<void> {
  // Ascending id order, whichever way the money goes: two transfers between the same pair
  // then queue on the same first row instead of each holding the row the other waits for.
  const { rows } = await client.query<{ id: number; balance_cents: string }>(
    `SELECT id, balance_cents FROM accounts WHERE id = ANY($1::integer[]) ORDER BY id${lock ? " FOR UPDATE" : ""}`,
    [[command.fromId, command.toId]],
  );
  const balances = new Map(rows.map((r) => [r.id, Number(r.balance_cents)]));
  for (const id of [command.fromId, command.toId]) if (!balances.has(id)) throw new UnknownAccountError(id);
  const available = balances.get(command.fromId)!;
  if (available < command.amountCents) throw new InsufficientFundsError(command.fromId, available, command.amountCents);
  await client.query(
    `UPDATE accounts
        SET balance_cents = balance_cents + CASE WHEN id = $1 THEN -$3::bigint ELSE $3::bigint END
      WHERE id IN ($1, $2)`,
    [command.fromId, command.toId, command.amountCents],
  );
}

/** Moves money at READ COMMITTED, with both rows locked in id order. */
export async function transfer(pool: pg.Pool, command: TransferCommand): Promise<void> {
  validate(command);
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    await move(client, command, true);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch((rollbackError: unknown) => {
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    });
    throw error;
  } finally {
    client.release(broken);
  }
}

/** Moves money at SERIALIZABLE, retrying the whole transaction on 40001 and 40P01. */
export async function transferSerializable(
  pool: pg.Pool,
  command: TransferCommand,
  retry: RetryOptions = {},
): Promise<void> {
  validate(command);
  await withSerializableRetry(pool, (client) => move(client, command, false), retry);
}
