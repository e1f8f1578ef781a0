import type pg from "pg";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { usePostgres } from "#fixtures/postgres";
import { createBank } from "../src/bank-schema";
import { goOffCall, LastOnCallError } from "../src/on-call";
import { withSerializableRetry, type RetryEvent } from "../src/serializable-retry";
import { applicationName, rendezvous } from "./support/sessions";
import { failureOf } from "./support/failure";

const postgres = usePostgres();
const app = applicationName(postgres, "serializable");
let pool: pg.Pool;

beforeAll(async () => {
  pool = postgres.pool({ max: 6, application_name: app });
  await createBank(pool);
  await pool.query(
    "CREATE TABLE notes (note text NOT NULL); CREATE TABLE counters (id integer PRIMARY KEY, n integer NOT NULL)",
  );
});
beforeEach(async () => {
  await pool.query("TRUNCATE notes, counters, doctors");
});

const sqlError = (code: string) => Object.assign(new Error(`simulated SQLSTATE ${code}`), { code });
const noWait = { sleep: async () => {} };
const fastRetries = { maxAttempts: 50, baseDelayMs: 2, maxDelayMs: 20 };
async function notes(): Promise<string[]> {
  return (await pool.query<{ note: string }>("SELECT note FROM notes ORDER BY note")).rows.map((r) => r.note);
}
function expectPoolIdle(why: string) {
  expect(pool.idleCount, `${why}: every client goes back to the pool`).toBe(pool.totalCount);
  expect(pool.waitingCount).toBe(0);
}

describe("runs the work in one SERIALIZABLE transaction", () => {
  it("commits the work's writes and answers its result, at SERIALIZABLE", async () => {
    const level = await withSerializableRetry(
      pool,
      async (client) => {
        await client.query("INSERT INTO notes (note) VALUES ('committed')");
        return (await client.query<{ level: string }>("SELECT current_setting('transaction_isolation') AS level"))
          .rows[0]!.level;
      },
      noWait,
    );
    expect(level, "the default is READ COMMITTED: ask for SERIALIZABLE in BEGIN").toBe("serializable");
    expect(await notes()).toEqual(["committed"]);
    expectPoolIdle("after a commit");
  });

  it("rolls back and rethrows any other error at once, after one attempt", async () => {
    for (const error of [new Error("a bug in the work"), sqlError("23505"), sqlError("57014")]) {
      let calls = 0;
      const run = withSerializableRetry(
        pool,
        async (client) => {
          calls++;
          await client.query("INSERT INTO notes (note) VALUES ('must roll back')");
          throw error;
        },
        noWait,
      );
      expect(await failureOf(run), "the caller gets the work's own error").toBe(error);
      expect(
        calls,
        `${(error as { code?: string }).code ?? "a plain error"} is not a serialization failure: ` +
          "retrying hides the bug",
      ).toBe(1);
    }
    expect(await notes(), "the failed attempts' writes are rolled back").toEqual([]);
    expectPoolIdle("after failures");
  });
});

describe("retries the whole transaction on 40001 and 40P01", () => {
  it("runs the work again, each time in a new transaction, until an attempt commits", async () => {
    const failures = [sqlError("40001"), sqlError("40P01")];
    const transactions: string[] = [];
    const events: RetryEvent[] = [];
    let attempt = 0;
    const result = await withSerializableRetry(
      pool,
      async (client) => {
        attempt++;
        transactions.push((await client.query<{ xid: string }>("SELECT txid_current()::text AS xid")).rows[0]!.xid);
        await client.query("INSERT INTO notes (note) VALUES ($1)", [`attempt ${attempt}`]);
        const failure = failures[attempt - 1];
        if (failure) throw failure;
        return "third time lucky";
      },
      { ...noWait, onRetry: (event) => events.push(event) },
    );
    expect(result).toBe("third time lucky");
    expect(new Set(transactions).size, "an aborted transaction cannot go on: each attempt needs a new BEGIN").toBe(3);
    expect(await notes(), "only the attempt that committed leaves its writes").toEqual(["attempt 3"]);
    expect(
      events.map((e) => [e.attempt, e.error]),
      "onRetry hears of each failed attempt before the wait",
    ).toEqual([
      [1, failures[0]],
      [2, failures[1]],
    ]);
    expectPoolIdle("after retries");
  });

  it("gives up after maxAttempts and rethrows the last failure as it is", async () => {
    let calls = 0;
    let last: Error | undefined;
    const waits: number[] = [];
    const run = withSerializableRetry(
      pool,
      async () => {
        calls++;
        throw (last = sqlError("40001"));
      },
      { maxAttempts: 4, sleep: async (ms) => void waits.push(ms) },
    );
    await expect(run).rejects.toSatisfy((error) => error === last);
    expect(calls, "maxAttempts counts every attempt, the first included").toBe(4);
    expect(waits, "a wait before each retry, none after the last attempt").toHaveLength(3);
  });

  it("defaults to 10 attempts, a first ceiling of 5 ms and a cap of 250 ms", async () => {
    let calls = 0;
    const waits: number[] = [];
    const run = withSerializableRetry(
      pool,
      async () => {
        calls++;
        throw sqlError("40P01");
      },
      { random: () => 0.999, sleep: async (ms) => void waits.push(ms) },
    );
    await expect(run).rejects.toMatchObject({ code: "40P01" });
    expect(calls, "maxAttempts defaults to 10").toBe(10);
    expect(waits, "ceilings 5, 10, 20, ... doubling, capped at 250").toEqual([4, 9, 19, 39, 79, 159, 249, 249, 249]);
  });

  it("waits full jitter before retry n: floor(random() * min(maxDelayMs, baseDelayMs * 2^(n-1)))", async () => {
    const draws = [0.5, 0.99, 0.25, 0.999, 0.6, 0];
    const waits: number[] = [];
    const events: number[] = [];
    const run = withSerializableRetry(
      pool,
      async () => {
        throw sqlError("40001");
      },
      {
        maxAttempts: 7,
        baseDelayMs: 10,
        maxDelayMs: 50,
        random: () => draws.shift()!,
        sleep: async (ms) => void waits.push(ms),
        onRetry: (event) => events.push(event.delayMs),
      },
    );
    await expect(run).rejects.toMatchObject({ code: "40001" });
    expect(
      waits,
      "ceilings 10, 20, 40, then capped at 50; each wait a random fraction of its ceiling, " +
        "so colliding retries spread out",
    ).toEqual([5, 19, 10, 49, 30, 0]);
    expect(events, "onRetry is told the wait it precedes").toEqual(waits);
  });

  it("lets five concurrent read-then-write increments all land: each retry reads the counter again", async () => {
    await pool.query("INSERT INTO counters (id, n) VALUES (1, 0)");
    const everyoneRead = rendezvous(pool, app, 5);
    let retries = 0;
    await Promise.all(
      Array.from({ length: 5 }, () =>
        withSerializableRetry(
          pool,
          async (client) => {
            const { rows } = await client.query<{ n: number }>("SELECT n FROM counters WHERE id = 1");
            await everyoneRead.meet();
            await client.query("UPDATE counters SET n = $1 WHERE id = 1", [rows[0]!.n + 1]);
          },
          { ...fastRetries, onRetry: () => void retries++ },
        ),
      ),
    );
    const { rows } = await pool.query<{ n: number }>("SELECT n FROM counters WHERE id = 1");
    expect(
      retries,
      "all five read 0 before any wrote: four of them must have been aborted and retried",
    ).toBeGreaterThanOrEqual(4);
    expect(
      rows[0]!.n,
      "a retry that re-runs only the UPDATE writes a value computed from the aborted attempt's read: lost increments",
    ).toBe(5);
    expectPoolIdle("after concurrent retries");
  });
});

async function onCall(shiftId: number): Promise<number> {
  return (
    await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM doctors WHERE shift_id = $1 AND on_call", [shiftId])
  ).rows[0]!.n;
}
async function staffShift(doctors: number): Promise<void> {
  await pool.query("TRUNCATE doctors");
  await pool.query(
    `INSERT INTO doctors (id, name, shift_id, on_call)
     SELECT d, 'Doctor ' || d, 1, true FROM generate_series(1, $1::int) AS d`,
    [doctors],
  );
}

describe("write skew: doctors going off call at the same moment", () => {
  it("under READ COMMITTED two doctors both go and nobody is on call; goOffCall lets exactly one go", async () => {
    // The anomaly, step by step, on two sessions at READ COMMITTED.
    await staffShift(2);
    const [alice, bob] = [await pool.connect(), await pool.connect()];
    try {
      for (const session of [alice, bob]) await session.query("BEGIN ISOLATION LEVEL READ COMMITTED");
      const others = "SELECT count(*)::int AS n FROM doctors WHERE shift_id = 1 AND on_call AND id <> $1";
      expect((await alice.query(others, [1])).rows[0].n, "Alice sees Bob on call").toBe(1);
      expect((await bob.query(others, [2])).rows[0].n, "Bob sees Alice on call").toBe(1);
      await alice.query("UPDATE doctors SET on_call = false WHERE id = 1");
      await bob.query("UPDATE doctors SET on_call = false WHERE id = 2");
      for (const session of [alice, bob]) await session.query("COMMIT");
    } finally {
      alice.release();
      bob.release();
    }
    expect(await onCall(1), "the write skew: each check was true, together they broke the rule").toBe(0);

    // The same race through goOffCall: both check before either writes.
    await staffShift(2);
    const together = rendezvous(pool, app, 2);
    const results = await Promise.allSettled(
      [1, 2].map((doctorId) =>
        goOffCall(pool, { doctorId, shiftId: 1 }, { beforeWrite: together.meet, retry: fastRetries }),
      ),
    );
    const refused = results.filter((r) => r.status === "rejected");
    expect(
      together.arrivals(),
      "call options.beforeWrite after the check: the tests need the two requests to race",
    ).toBeGreaterThanOrEqual(1);
    expect(await onCall(1), "the rule holds whatever the timing: at least one doctor stays on call").toBe(1);
    expect(refused, "one of them goes, the other is told it is the last one on call").toHaveLength(1);
    expect(
      (refused[0] as PromiseRejectedResult).reason,
      "the refused request is told why; a 40001 reaching the caller means the transaction was not retried",
    ).toBeInstanceOf(LastOnCallError);
    expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({
      name: "LastOnCallError",
      code: "ERR_LAST_ON_CALL",
      shiftId: 1,
    });
    expectPoolIdle("after the race");
  });

  it("with three doctors leaving at once, two go and the last is refused: a retry decides anew", async () => {
    await staffShift(3);
    const together = rendezvous(pool, app, 3);
    const results = await Promise.allSettled(
      [1, 2, 3].map((doctorId) =>
        goOffCall(pool, { doctorId, shiftId: 1 }, { beforeWrite: together.meet, retry: fastRetries }),
      ),
    );
    const gone = results.filter((r) => r.status === "fulfilled").length;
    expect(together.arrivals(), "call options.beforeWrite after the check, on every attempt").toBeGreaterThanOrEqual(
      gone,
    );
    expect(await onCall(1), "exactly one doctor is left on call").toBe(1);
    expect(
      gone,
      "two may go: a request aborted by the first commit must check again, not give up or write anyway",
    ).toBe(2);
    const reasons = results
      .filter((r): r is PromiseRejectedResult => r.status === "rejected")
      .map((r) => r.reason as unknown);
    expect(reasons).toEqual([expect.any(LastOnCallError)]);
  });

  it("lets a doctor go while another stays on call, and refuses the last one, shift by shift", async () => {
    await pool.query(`INSERT INTO doctors (id, name, shift_id, on_call) VALUES
      (1, 'Alice', 1, true), (2, 'Bob', 1, true), (3, 'Carol', 2, true), (4, 'Dan', 2, false)`);
    await goOffCall(pool, { doctorId: 1, shiftId: 1 });
    expect(await onCall(1)).toBe(1);
    expect(
      await failureOf(goOffCall(pool, { doctorId: 2, shiftId: 1 })),
      "Bob is now the last one on call for shift 1",
    ).toBeInstanceOf(LastOnCallError);
    expect(
      await failureOf(goOffCall(pool, { doctorId: 3, shiftId: 2 })),
      "Dan is off call and Alice is on another shift: neither covers shift 2",
    ).toBeInstanceOf(LastOnCallError);
    expect(await onCall(1)).toBe(1);
    expect(await onCall(2)).toBe(1);
  });
});
