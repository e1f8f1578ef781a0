// Reference solution for the `stream-consumer` kata, effect side: a credit applied at most
// once per entry id, because the check, the credit and the record are one Lua script.

import type { Redis } from "ioredis";
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

const DEFAULT_MARKER_TTL_MS = 7 * 24 * 3_600_000;
// Stryker disable next-line StringLiteral: any key name works, the ledger reads what it wrote
const BALANCES = "ledger:balances";
const appliedMarker = (entryId: string) => `ledger:applied:${entryId}`;

// KEYS[1] the entry's marker, KEYS[2] the balances hash; ARGV account, amount, marker TTL.
// Redis runs a script alone, so no other delivery can slip between the SET and the HINCRBY.
const CREDIT_ONCE = `
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[3]) then
  redis.call('HINCRBY', KEYS[2], ARGV[1], ARGV[2])
  return 1
end
return 0`;

interface WithCreditOnce {
  creditOnce(marker: string, balances: string, account: string, amount: string, ttlMs: number): Promise<number>;
}

const INTEGER = /^-?\d{1,15}$/;

export class CreditLedger {
  private readonly client: Redis & WithCreditOnce;

  constructor(
    private readonly redis: Redis,
    private readonly options: CreditLedgerOptions = {},
  ) {
    // defineCommand sends EVALSHA and falls back to EVAL after a NOSCRIPT (a restart, a
    // flush); it also applies the client's keyPrefix to KEYS.
    redis.defineCommand("creditOnce", { numberOfKeys: 2, lua: CREDIT_ONCE });
    this.client = redis as Redis & WithCreditOnce;
  }

  /** The worker's handler: applies one credit entry, at most once per entry id. */
  handler(): MessageHandler {
    const ttl = this.options.markerTtlMs ?? DEFAULT_MARKER_TTL_MS;
    return async ({ id, fields }) => {
      const account = fields.account;
      const amount = fields.amountCents;
      // Stryker disable next-line StringLiteral: the reason is for people
      if (!account) throw new InvalidCreditError(id, "no account");
      // Within 15 digits the amount is exact as a Redis integer and as a JS number.
      if (amount === undefined || !INTEGER.test(amount)) {
        // Stryker disable next-line StringLiteral: the reason is for people
        throw new InvalidCreditError(id, `amountCents ${JSON.stringify(amount)} is not an integer`);
      }
      await this.client.creditOnce(appliedMarker(id), BALANCES, account, amount, ttl);
    };
  }

  /** The account's balance in cents (0 for an account never credited). */
  async balance(account: string): Promise<number> {
    return Number((await this.redis.hget(BALANCES, account)) ?? 0);
  }
}
