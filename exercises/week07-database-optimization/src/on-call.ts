// Kata: transactions (3 of 3: write skew; see also src/transfers.ts, src/serializable-retry.ts)
//
// The hospital's rule: at least one doctor on call per shift. Alice and Bob are both on call
// and both feel unwell. Each one's transaction checks "is someone else still on call?" (yes:
// the other), then takes itself off call. At READ COMMITTED both checks run before either
// write commits, both succeed, and nobody is on call. No row was written twice, so row locks
// on what they wrote do not help: this is write skew, and the tests show it happening.
//
// Build goOffCall(pool, { doctorId, shiftId }, options): the doctor goes off call when another
// doctor of the shift stays on call, otherwise LastOnCallError, and the rule must hold however
// many doctors try at once. Call options.beforeWrite() (when given) inside the transaction,
// after your check and before your write, on every attempt: the tests use it to make two
// requests check at the same moment. Run it with withSerializableRetry, or make it safe in
// another way.
// Tests: tests/serializable-retry.test.ts (npm run check week7 transactions).
// Keep the exported names and signatures: the tests import them.

import type pg from "pg";
import { NotImplementedError } from "#kata";
import type { RetryOptions } from "./serializable-retry";

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
  // TODO: in one transaction that is retried whole: count the other doctors of the shift on
  //       call, LastOnCallError when there are none, await beforeWrite, then update.
  throw new NotImplementedError("transactions");
}
