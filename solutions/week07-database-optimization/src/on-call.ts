// Reference solution for the `transactions` kata, write skew: the check ("someone else stays
// on call") and the write touch different rows, so only SERIALIZABLE, which tracks what each
// transaction read, can see that two of them together broke the rule.

import type pg from "pg";
import { withSerializableRetry, type RetryOptions } from "./serializable-retry";

export interface OffCallRequest {
  readonly doctorId: number;
  readonly shiftId: number;
}

export interface GoOffCallOptions {
  readonly retry?: RetryOptions;
  /** Runs after the check and before the write, inside the transaction, on every attempt. */
  readonly beforeWrite?: () => Promise<void>;
}

/** The doctor is the last one on call for the shift, and must stay. */
export class LastOnCallError extends Error {
  readonly code = "ERR_LAST_ON_CALL";

  constructor(
    readonly doctorId: number,
    readonly shiftId: number,
  ) {
    super(`doctor ${doctorId} is the last one on call for shift ${shiftId}`);
    this.name = "LastOnCallError";
  }
}

/** Takes the doctor off call unless that would leave the shift with nobody on call. */
export async function goOffCall(pool: pg.Pool, request: OffCallRequest, options: GoOffCallOptions = {}): Promise<void> {
  const { doctorId, shiftId } = request;
  await withSerializableRetry(
    pool,
    async (client) => {
      // Read inside the retried function: a retry must decide on what it reads now, never on
      // what the aborted attempt saw.
      const { rows } = await client.query<{ others: number }>(
        "SELECT count(*)::int AS others FROM doctors WHERE shift_id = $1 AND on_call AND id <> $2",
        [shiftId, doctorId],
      );
      if (rows[0]!.others === 0) throw new LastOnCallError(doctorId, shiftId);
      await options.beforeWrite?.();
      await client.query("UPDATE doctors SET on_call = false WHERE id = $1 AND shift_id = $2", [doctorId, shiftId]);
    },
    options.retry,
  );
}
