/**
 * repositories, the checks only a database can fail: the schema migrate() creates, values sent
 * as parameters, clients returned to the pool clean, atomic writes, and lost races reported
 * as ConcurrencyError whatever isolation level the server runs at.
 *
 * Postgres comes from the course's fixture: this file gets a schema of its own, dropped after.
 */
import { randomUUID } from "node:crypto";
import type pg from "pg";
import { describe, expect, it } from "vitest";
import { usePostgres } from "#fixtures/postgres";
import { ConcurrencyError } from "../src/errors";
import type { OrderStatus } from "../src/order";
import { PgOrderRepository } from "../src/pg-order-repository";
import { expectOneWinner, newOrder, rejectionOf, withStatus } from "./support/orders";
import { startingLine } from "./support/starting-line";

const postgres = usePostgres();

let sharedPool: pg.Pool | undefined;
const pool = () => (sharedPool ??= postgres.pool({ max: 4 }));

/** The states pg_stat_activity reports for the sessions of pools opened with this application_name. */
async function sessionStates(applicationName: string): Promise<string[]> {
  const { rows } = await postgres.query<{ state: string }>(
    "SELECT state FROM pg_stat_activity WHERE application_name = $1",
    [applicationName],
  );
  return rows.map((row) => row.state);
}

const LEFT_OPEN =
  "a save that failed gave its client back to the pool inside an open transaction ('idle in transaction'): the next " +
  "save on that connection runs inside it, and its COMMIT commits (or its error aborts) work it never saw. ROLLBACK " +
  "before release() on every failure path, a lost race included";

describe("PgOrderRepository on a real Postgres", () => {
  let created: Promise<PgOrderRepository> | undefined;
  const adapter = () =>
    (created ??= (async () => {
      const repository = new PgOrderRepository(pool());
      await repository.migrate();
      return repository;
    })());

  it("can run migrate() again without failing or losing data", async () => {
    const repository = await adapter();
    const saved = await repository.save(newOrder());
    await repository.migrate();
    expect(await repository.findById(saved.id)).toStrictEqual(saved);
  });

  it("keeps money out of floating-point columns and instants in timestamptz", async () => {
    await adapter(); // migrate() has run: the tables exist
    const { rows } = await postgres.query<{ table_name: string; column_name: string; data_type: string }>(
      "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = $1",
      [postgres.schema],
    );
    expect(rows.length, "migrate() creates its tables in the pool's schema (unqualified names)").toBeGreaterThan(0);
    const wrong = rows
      .filter((c) => ["real", "double precision", "money", "timestamp without time zone", "date"].includes(c.data_type))
      .map((c) => `${c.table_name}.${c.column_name}: ${c.data_type}`);
    expect(
      wrong,
      "floats cannot add cents exactly, the money type depends on lc_monetary, and a timestamp without time zone is read in the server's zone",
    ).toEqual([]);
  });

  it("sends every value as a parameter, never inside the SQL text", async () => {
    await adapter(); // migrate() has run: the tables exist
    const statements: string[] = [];
    const spied = postgres.pool({ max: 2 });
    spied.on("connect", (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as { query: unknown }).query = (...args: unknown[]) => {
        const first = args[0];
        statements.push(typeof first === "string" ? first : String((first as { text?: unknown }).text));
        return query(...args);
      };
    });
    const marked = new PgOrderRepository(spied);
    const order = newOrder({
      customerId: "cus-MARKER-7f3a",
      lines: [{ sku: "SKU-MARKER-7f3a", quantity: 1, unitPriceCents: 1 }],
      totalCents: 1,
    });
    const saved = await marked.save(order);
    await marked.save(withStatus(saved, "paid"));
    await marked.findById(order.id);
    expect(statements.length, "the adapter talks to the database through the pool it was given").toBeGreaterThan(0);
    expect(
      statements.filter((sql) => sql.includes("MARKER") || sql.includes(order.id)),
      "a value pasted into SQL text is an injection hole and defeats prepared plans; use $1, $2, …",
    ).toEqual([]);
  });

  it("returns every client to the pool, after conflicts too", async () => {
    await adapter(); // migrate() has run: the tables exist
    const counted = postgres.pool({ max: 3 });
    const tracked = new PgOrderRepository(counted);
    const v1 = await tracked.save(newOrder());
    await rejectionOf(tracked.save({ ...v1, version: 7 }));
    await rejectionOf(tracked.save({ ...v1, version: 0 }));
    await Promise.allSettled([tracked.save(withStatus(v1, "paid")), tracked.save(withStatus(v1, "cancelled"))]);
    await tracked.findById(v1.id);
    expect(
      { total: counted.totalCount, idle: counted.idleCount, waiting: counted.waitingCount },
      "a client not released on an error path is a leak: the pool runs dry and every request hangs",
    ).toEqual({ total: counted.totalCount, idle: counted.totalCount, waiting: 0 });
  });

  it("rolls back every failed save before its client goes back to the pool", async () => {
    await adapter(); // migrate() has run: the tables exist
    const name = `kata-w1-${randomUUID().slice(0, 8)}`;
    // One connection, reused by every save: a transaction left open would be the next save's.
    const repository = new PgOrderRepository(postgres.pool({ max: 1, application_name: name }));
    const v1 = await repository.save(newOrder());
    const failures: [string, () => Promise<unknown>][] = [
      ["a stale version", () => repository.save({ ...withStatus(v1, "paid"), version: 7 })],
      ["a duplicate insert", () => repository.save({ ...v1, version: 0 })],
      [
        "a database error",
        () =>
          repository.save({ ...withStatus(v1, "paid"), lines: [{ sku: "NUL\u0000", quantity: 1, unitPriceCents: 1 }] }),
      ],
    ];
    for (const [what, fail] of failures) {
      await rejectionOf(fail());
      expect(await sessionStates(name), `after ${what}: ${LEFT_OPEN}`).toEqual(["idle"]);
    }
    expect(await repository.findById(v1.id), "the failed saves changed nothing").toStrictEqual(v1);
  });

  it("reports lost races as ConcurrencyError under SERIALIZABLE too, where Postgres answers 40001, and rolls them back", async () => {
    await adapter(); // migrate() has run: the tables exist
    const name = `kata-w1-${randomUUID().slice(0, 8)}`;
    // Some servers run every transaction at a stricter isolation level (default_transaction_isolation).
    const options = `-c search_path=${postgres.schema} -c default_transaction_isolation=serializable`;
    const line = startingLine(postgres.pool({ max: 8, application_name: name, options }));
    const repository = new PgOrderRepository(line.pool);
    const v1 = await repository.save(newOrder());
    const moves: OrderStatus[] = ["paid", "cancelled", "shipped", "paid"];
    const updates = await line.race(moves.length, () =>
      Promise.allSettled(moves.map((status) => repository.save(withStatus(v1, status)))),
    );
    const winner = expectOneWinner(
      updates,
      "under SERIALIZABLE (or REPEATABLE READ) a concurrent update fails with 40001 serialization_failure instead of matching 0 rows",
    );
    expect(await repository.findById(v1.id)).toStrictEqual(winner);
    const order = newOrder();
    const inserts = await line.race(4, () =>
      Promise.allSettled([1, 2, 3, 4].map((n) => repository.save({ ...order, customerId: `cus-${n}` }))),
    );
    expectOneWinner(
      inserts,
      "a concurrent insert of the same id fails with 40001 (or 23505 without ON CONFLICT): a lost race either way",
    );
    const states = await sessionStates(name);
    expect(
      states.filter((state) => state !== "idle"),
      LEFT_OPEN,
    ).toEqual([]);
  });

  it("writes an order and its lines together or not at all", async () => {
    const repository = await adapter();
    // Postgres refuses a NUL character in text, so this line fails after the order itself
    // could have been written: only a transaction keeps half an order out of the table.
    const broken = newOrder({
      lines: [
        { sku: "OK-1", quantity: 1, unitPriceCents: 1 },
        { sku: "NUL\u0000", quantity: 1, unitPriceCents: 1 },
      ],
    });
    const failure = await rejectionOf(repository.save(broken));
    expect(failure, "a database error that is not a lost race propagates as it is").not.toBeInstanceOf(
      ConcurrencyError,
    );
    expect(await repository.findById(broken.id), "no half-written order may remain").toBeUndefined();

    const v1 = await repository.save(newOrder());
    const brokenUpdate = { ...withStatus(v1, "paid"), lines: broken.lines };
    expect(await rejectionOf(repository.save(brokenUpdate))).not.toBeInstanceOf(ConcurrencyError);
    expect(
      await repository.findById(v1.id),
      "a failed update leaves the previous version whole, lines included",
    ).toStrictEqual(v1);
  });
});
