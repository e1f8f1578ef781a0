import type pg from "pg";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { usePostgres } from "#fixtures/postgres";
import { seededRandom } from "#fixtures/random";
import { createBank } from "../src/bank-schema";
import {
  InsufficientFundsError,
  transfer,
  transferSerializable,
  UnknownAccountError,
  type TransferCommand,
} from "../src/transfers";
import { applicationName, lockWaiters } from "./support/sessions";
import { failureOf } from "./support/failure";

const postgres = usePostgres();
const app = applicationName(postgres, "transfers");
// Enough sessions that the transfers really run side by side: a pool of one would queue them
// and hide every race this kata is about.
let pool: pg.Pool;
let observer: pg.Pool;
const ACCOUNTS = [1, 2, 3, 4, 5];
const OPENING = 1_000;
const fastRetries = { maxAttempts: 60, baseDelayMs: 2, maxDelayMs: 40 };

beforeAll(async () => {
  pool = postgres.pool({ max: 10, application_name: app });
  observer = postgres.pool({ max: 3 });
  await createBank(observer);
});
beforeEach(async () => {
  await observer.query("TRUNCATE accounts");
  await observer.query(
    "INSERT INTO accounts (id, owner, balance_cents) SELECT a, 'owner ' || a, $1 FROM unnest($2::int[]) AS a",
    [OPENING, ACCOUNTS],
  );
});

async function balances(): Promise<Map<number, number>> {
  const { rows } = await observer.query<{ id: number; balance_cents: string }>(
    "SELECT id, balance_cents FROM accounts ORDER BY id",
  );
  return new Map(rows.map((r) => [r.id, Number(r.balance_cents)]));
}

/** Fifty random transfers between five accounts, the same fifty on every run. */
function randomTransfers(seed: number, count = 50): TransferCommand[] {
  const random = seededRandom(seed);
  const pick = () => ACCOUNTS[Math.floor(random() * ACCOUNTS.length)]!;
  return Array.from({ length: count }, () => {
    const fromId = pick();
    let toId = pick();
    while (toId === fromId) toId = pick();
    return { fromId, toId, amountCents: 1 + Math.floor(random() * 400) };
  });
}

/** Runs the transfers at once and checks the books: refusals only for lack of funds, and every balance explained. */
async function runConcurrently(commands: readonly TransferCommand[], move: (c: TransferCommand) => Promise<void>) {
  const settled = await Promise.allSettled(commands.map((c) => move(c)));
  const unexpected = settled.flatMap((r) =>
    r.status === "rejected" && !(r.reason instanceof InsufficientFundsError) ? [r.reason as unknown] : [],
  );
  expect(
    unexpected.map((e) => `${(e as { code?: string }).code ?? ""} ${(e as Error).message}`),
    "a transfer may only be refused for lack of funds: a 40P01 deadlock at READ COMMITTED means the rows " +
      "were not locked in ascending id order; a 40001 or 40P01 from the SERIALIZABLE transfer means " +
      "it was not retried",
  ).toEqual([]);
  const after = await balances();
  const expected = new Map(ACCOUNTS.map((id) => [id, OPENING]));
  commands.forEach((c, i) => {
    if (settled[i]!.status !== "fulfilled") return;
    expected.set(c.fromId, expected.get(c.fromId)! - c.amountCents);
    expected.set(c.toId, expected.get(c.toId)! + c.amountCents);
  });
  const total = [...after.values()].reduce((a, b) => a + b, 0);
  expect(total, "money is neither created nor destroyed").toBe(OPENING * ACCOUNTS.length);
  expect(
    [...after.values()].filter((b) => b < 0),
    "no balance may go negative: the funds check must see the latest balance",
  ).toEqual([]);
  expect(after, "each balance is its opening plus the transfers that succeeded: a lost update breaks this").toEqual(
    expected,
  );
  expect(pool.idleCount, "every client goes back to the pool").toBe(pool.totalCount);
  return settled;
}

describe("moves money in one transaction", () => {
  it("debits the source and credits the destination, down to an empty account", async () => {
    await transfer(pool, { fromId: 1, toId: 2, amountCents: 250 });
    await transfer(pool, { fromId: 3, toId: 1, amountCents: 40 });
    await transfer(pool, { fromId: 4, toId: 5, amountCents: OPENING });
    const after = await balances();
    expect([after.get(1), after.get(2), after.get(3)]).toEqual([790, 1_250, 960]);
    expect([after.get(4), after.get(5)], "a balance that equals the amount covers it").toEqual([0, 2 * OPENING]);
  });

  it("refuses an overdraft, an unknown account and a bad amount, changing nothing", async () => {
    const overdraft = transfer(pool, { fromId: 1, toId: 2, amountCents: 1_001 });
    await expect(overdraft).rejects.toBeInstanceOf(InsufficientFundsError);
    await expect(overdraft).rejects.toMatchObject({
      name: "InsufficientFundsError",
      code: "ERR_INSUFFICIENT_FUNDS",
      accountId: 1,
      balanceCents: 1_000,
      amountCents: 1_001,
    });
    await expect(transfer(pool, { fromId: 1, toId: 99, amountCents: 5 })).rejects.toMatchObject({
      name: "UnknownAccountError",
      code: "ERR_UNKNOWN_ACCOUNT",
      accountId: 99,
    });
    await expect(transfer(pool, { fromId: 98, toId: 1, amountCents: 5 })).rejects.toBeInstanceOf(UnknownAccountError);
    for (const amountCents of [0, -5, 2.5]) {
      expect(
        await failureOf(transfer(pool, { fromId: 1, toId: 2, amountCents })),
        `amount ${amountCents}`,
      ).toBeInstanceOf(RangeError);
    }
    expect(
      await failureOf(transfer(pool, { fromId: 2, toId: 2, amountCents: 5 })),
      "a transfer to the same account",
    ).toBeInstanceOf(RangeError);
    expect([...(await balances()).values()], "a refused transfer changes nothing").toEqual(ACCOUNTS.map(() => OPENING));
    expect(pool.idleCount, "every path gives its client back").toBe(pool.totalCount);
  });
});

describe("stays correct under concurrency at READ COMMITTED, with row locks", { timeout: 30_000 }, () => {
  it("keeps the books exact through 50 concurrent random transfers over 10 connections", async () => {
    const settled = await runConcurrently(randomTransfers(7), (c) => transfer(pool, c));
    expect(settled.filter((r) => r.status === "fulfilled").length).toBeGreaterThan(25);
  });

  it("counts both of two debits that queue behind a lock, and refuses the one the balance cannot cover", async () => {
    await observer.query("UPDATE accounts SET balance_cents = 100 WHERE id = 1");
    const holder = await observer.connect();
    let debits: Promise<PromiseSettledResult<void>[]> | undefined;
    try {
      await holder.query("BEGIN");
      await holder.query("SELECT 1 FROM accounts WHERE id = 1 FOR UPDATE");
      debits = Promise.allSettled([
        transfer(pool, { fromId: 1, toId: 2, amountCents: 70 }),
        transfer(pool, { fromId: 1, toId: 3, amountCents: 70 }),
      ]);
      const settled = new AbortController();
      void debits.then(() => settled.abort());
      expect(
        await lockWaiters(observer, app, 2, { signal: settled.signal }),
        "both transfers should wait for account 1's row lock",
      ).toBe(true);
    } finally {
      await holder.query("COMMIT");
      holder.release();
    }
    const results = await debits;
    expect(
      results.map((r) => r.status).sort(),
      "both read 100 if they read without FOR UPDATE: both pass the check, and 140 leaves an account holding 100",
    ).toEqual(["fulfilled", "rejected"]);
    expect((results.find((r) => r.status === "rejected") as PromiseRejectedResult).reason).toBeInstanceOf(
      InsufficientFundsError,
    );
    const after = await balances();
    expect(after.get(1), "one debit of 70 from 100").toBe(30);
    expect((after.get(2) ?? 0) + (after.get(3) ?? 0), "and one credit of 70").toBe(2 * OPENING + 70);
  });

  it("locks in ascending id order: a transfer from 2 to 1 takes 1's lock before it waits for 2's", async () => {
    const holder = await observer.connect();
    let pending: Promise<void> | undefined;
    try {
      await holder.query("BEGIN");
      await holder.query("SELECT 1 FROM accounts WHERE id = 2 FOR UPDATE");
      pending = transfer(pool, { fromId: 2, toId: 1, amountCents: 10 });
      const settled = new AbortController();
      pending.then(
        () => settled.abort(),
        () => settled.abort(),
      ); // awaited below, once the lock is released
      expect(
        await lockWaiters(observer, app, 1, { signal: settled.signal }),
        "the transfer should wait for account 2's lock",
      ).toBe(true);
      const probe = await observer.connect();
      try {
        const code = await probe.query("SELECT 1 FROM accounts WHERE id = 1 FOR UPDATE NOWAIT").then(
          () => "not locked",
          (error: { code?: string }) => error.code,
        );
        expect(
          code,
          "account 1 should already be locked by the waiting transfer (55P03 lock_not_available): " +
            "locking 'from' first lets 2→1 and 1→2 each hold the row the other waits for, a deadlock",
        ).toBe("55P03");
      } finally {
        probe.release();
      }
    } finally {
      await holder.query("COMMIT");
      holder.release();
    }
    await pending;
    expect((await balances()).get(1)).toBe(1_010);
  });

  it("never deadlocks when transfers between the same accounts run in opposite directions at once", async () => {
    const pairs = Array.from({ length: 12 }, (_, i): TransferCommand[] => [
      { fromId: 1 + (i % 2), toId: 2 - (i % 2), amountCents: 5 },
      { fromId: 4, toId: 3, amountCents: 5 },
      { fromId: 3, toId: 4, amountCents: 5 },
    ]).flat();
    const settled = await runConcurrently(pairs, (c) => transfer(pool, c));
    expect(
      settled.every((r) => r.status === "fulfilled"),
      "every one of these transfers is covered",
    ).toBe(true);
  });
});

describe("stays correct at SERIALIZABLE without locks, by retrying whole transactions", { timeout: 30_000 }, () => {
  it("keeps the books exact through 50 concurrent random transfers, each aborted one run again", async () => {
    // Fifty transfers over five accounts at once conflict: SERIALIZABLE aborts some with 40001
    // or 40P01, and runConcurrently fails on any of those that reaches the caller.
    const settled = await runConcurrently(randomTransfers(11), (c) => transferSerializable(pool, c, fastRetries));
    expect(settled.filter((r) => r.status === "fulfilled").length).toBeGreaterThan(25);
  });

  it("refuses an overdraft and an unknown account without retrying them", async () => {
    let retries = 0;
    const options = { ...fastRetries, onRetry: () => void retries++ };
    await expect(
      transferSerializable(pool, { fromId: 1, toId: 2, amountCents: 5_000 }, options),
    ).rejects.toBeInstanceOf(InsufficientFundsError);
    await expect(transferSerializable(pool, { fromId: 1, toId: 77, amountCents: 5 }, options)).rejects.toBeInstanceOf(
      UnknownAccountError,
    );
    await expect(transferSerializable(pool, { fromId: 1, toId: 1, amountCents: 5 }, options)).rejects.toBeInstanceOf(
      RangeError,
    );
    expect(retries, "a domain refusal is not a serialization failure").toBe(0);
    await transferSerializable(pool, { fromId: 5, toId: 4, amountCents: 300 }, options);
    const after = await balances();
    expect([after.get(4), after.get(5), after.get(1)]).toEqual([1_300, 700, 1_000]);
  });
});
