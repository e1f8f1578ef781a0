// Kata: stream-consumer (2 of 2: the idempotent effect; the worker is in stream-worker.ts)
//
// A consumer group delivers at least once: a worker that dies after its effect and before
// its XACK gets the entry delivered again, to itself or to another worker. So the effect
// itself must be idempotent. CreditLedger credits accounts from entries with the fields
// { account, amountCents } (amountCents: an integer, as a string), once per entry id:
// - the "already applied?" check, the credit and the record of the entry id are ONE atomic
//   step in Redis (a Lua script; check-then-act in two commands lets two deliveries through);
// - a redelivery, even a concurrent one, changes nothing;
// - an entry without an account, or whose amountCents is not an integer, is a poison message:
//   the handler throws InvalidCreditError every time (the worker dead-letters it eventually);
// - the records of applied entry ids expire after markerTtlMs (choose it longer than any
//   redelivery can take): remembering every id forever is a memory leak.
//
// Tests: tests/stream-consumer.test.ts (`npm run check week9 stream-consumer`).
// Keep the exported names and signatures: the tests import them.

import type { Redis } from "ioredis";
import { NotImplementedError } from "#kata";
import type { MessageHandler } from "./stream-worker";

export class InvalidCreditError extends Error {
  readonly code = "ERR_INVALID_CREDIT";

  constructor(
    readonly entryId: string,
    reason: string,
  ) {
    super(`entry ${entryId}: ${reason}`);
    this.name = "InvalidCreditError";
  }
}

export interface CreditLedgerOptions {
  /** How long an applied entry id is remembered. Default 7 days. */
  readonly markerTtlMs?: number;
}

export class CreditLedger {
  constructor(
    private readonly redis: Redis,
    private readonly options: CreditLedgerOptions = {},
  ) {}

  /** The worker's handler: applies one credit entry, at most once per entry id. */
  handler(): MessageHandler {
    // TODO: validate the fields (InvalidCreditError), then one Lua script: SET marker NX PX
    //       and, only if it was set, HINCRBY the balance.
    throw new NotImplementedError("stream-consumer");
  }

  /** The account's balance in cents (0 for an account never credited). */
  async balance(account: string): Promise<number> {
    // TODO: read what the handler wrote.
    throw new NotImplementedError("stream-consumer");
  }
}
