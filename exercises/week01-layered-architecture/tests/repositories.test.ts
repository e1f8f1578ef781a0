/**
 * repositories: one port, two adapters, one contract. The same suite runs against the
 * in-memory adapter and the Postgres adapter (describe.each), so whatever passes against the
 * fast fake also holds in production. A few checks after it only a database can fail.
 *
 * Postgres comes from the course's fixture: this file gets a schema of its own, dropped after.
 */
import { randomUUID } from "node:crypto";
import type pg from "pg";
import { describe, expect, it } from "vitest";
import { usePostgres } from "#fixtures/postgres";
import { ConcurrencyError } from "../src/errors";
import { InMemoryOrderRepository } from "../src/in-memory-order-repository";
import type { Order, OrderStatus } from "../src/order";
import { PgOrderRepository } from "../src/pg-order-repository";
import type { OrderRepository } from "../src/ports";

const postgres = usePostgres();

/** A never-saved order (version 0) with a fresh id; fields can be overridden. */
function newOrder(overrides: Partial<Order> = {}): Order {
  return {
    id: `ord-${randomUUID()}`,
    customerId: "cus-42",
    status: "pending",
    lines: [
      { sku: "KB-101", quantity: 2, unitPriceCents: 4_999 },
      { sku: "CABLE-1", quantity: 3, unitPriceCents: 250 },
    ],
    totalCents: 10_748,
    createdAt: new Date("2026-02-03T09:30:00.123Z"),
    updatedAt: new Date("2026-02-03T09:30:00.123Z"),
    version: 0,
    ...overrides,
  };
}

const withStatus = (order: Order, status: OrderStatus): Order => ({ ...order, status, updatedAt: new Date(order.updatedAt.getTime() + 60_000) });

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the save to be rejected, but it resolved");
}

async function expectConflict(promise: Promise<unknown>, order: Order): Promise<void> {
  const error = await rejectionOf(promise);
  expect(error, "a lost race must surface as the domain's ConcurrencyError, not as a driver error or a silent overwrite").toBeInstanceOf(
    ConcurrencyError,
  );
  const conflict = error as ConcurrencyError;
  expect({ code: conflict.code, orderId: conflict.orderId, expectedVersion: conflict.expectedVersion }).toEqual({
    code: "CONCURRENCY_CONFLICT",
    orderId: order.id,
    expectedVersion: order.version,
  });
}

let sharedPool: pg.Pool | undefined;
const pool = () => (sharedPool ??= postgres.pool({ max: 4 }));

const adapters: { name: string; create: () => Promise<OrderRepository> }[] = [
  { name: "InMemoryOrderRepository", create: async () => new InMemoryOrderRepository() },
  {
    name: "PgOrderRepository",
    create: async () => {
      const repository = new PgOrderRepository(pool());
      await repository.migrate();
      return repository;
    },
  },
];

describe.each(adapters)("$name keeps the OrderRepository contract", ({ create }) => {
  // Created by the first test that needs it rather than in beforeAll, so that a failing
  // migrate() fails each test with its cause instead of skipping the whole suite.
  let created: Promise<OrderRepository> | undefined;
  const adapter = () => (created ??= create());

  it("finds nothing for an id it never stored", async () => {
    const repository = await adapter();
    expect(await repository.findById(`ord-${randomUUID()}`)).toBeUndefined();
  });

  it("inserts a new order (version 0) and returns it at version 1, otherwise exactly as given", async () => {
    const repository = await adapter();
    const order = newOrder();
    const saved = await repository.save(order);
    expect(saved, "save returns the stored order at its new version").toStrictEqual({ ...order, version: 1 });
    expect(await repository.findById(order.id)).toStrictEqual({ ...order, version: 1 });
  });

  it("round-trips money and time exactly: cents up to Number.MAX_SAFE_INTEGER, a free line, millisecond instants, line order", async () => {
    const repository = await adapter();
    const order = newOrder({
      lines: [
        { sku: "Z-LAST-ALPHABETICALLY", quantity: 1, unitPriceCents: Number.MAX_SAFE_INTEGER - 1 },
        { sku: "A-FIRST", quantity: 999, unitPriceCents: 0 },
        { sku: "M-MIDDLE", quantity: 1, unitPriceCents: 1 },
      ],
      totalCents: Number.MAX_SAFE_INTEGER,
      createdAt: new Date("1999-12-31T23:59:59.999Z"),
      updatedAt: new Date("2026-03-29T01:30:00.001Z"),
    });
    await repository.save(order);
    const found = await repository.findById(order.id);
    expect(
      found,
      "bigint comes back from pg as a string, int4 overflows, floats and timestamp(0) lose digits, and lines must keep their order",
    ).toStrictEqual({ ...order, version: 1 });
  });

  it("stores text as data, not as SQL: quotes, backslashes, percent signs and unicode round-trip", async () => {
    const repository = await adapter();
    const order = newOrder({
      customerId: `O'Brien"); DROP TABLE orders; --`,
      lines: [{ sku: "sock 🧦 \\x00 %_ $1 ' \" ;", quantity: 1, unitPriceCents: 500 }],
      totalCents: 500,
    });
    await repository.save(order);
    expect(await repository.findById(order.id)).toStrictEqual({ ...order, version: 1 });
  });

  it("stores what it is given, even an order without lines: rules are the service's business, not storage's", async () => {
    const repository = await adapter();
    const empty = newOrder({ lines: [], totalCents: 0 });
    await repository.save(empty);
    expect(await repository.findById(empty.id)).toStrictEqual({ ...empty, version: 1 });
  });

  it("updates an order saved at its current version, one version higher each time", async () => {
    const repository = await adapter();
    const v1 = await repository.save(newOrder());
    const v2 = await repository.save(withStatus(v1, "paid"));
    expect(v2.version).toBe(2);
    const v3 = await repository.save(withStatus(v2, "shipped"));
    expect(v3.version).toBe(3);
    expect(await repository.findById(v1.id)).toStrictEqual({ ...withStatus(v2, "shipped"), version: 3 });
  });

  it("persists the whole order on update, lines and total included", async () => {
    const repository = await adapter();
    const v1 = await repository.save(newOrder());
    const changed: Order = { ...v1, lines: [{ sku: "MOUSE-7", quantity: 4, unitPriceCents: 1_999 }], totalCents: 7_996 };
    await repository.save(changed);
    expect(await repository.findById(v1.id), "save stores the aggregate as given, not just the fields that usually change").toStrictEqual({
      ...changed,
      version: 2,
    });
  });

  it("rejects a save from a stale version with ConcurrencyError and keeps the winner's write", async () => {
    const repository = await adapter();
    const v1 = await repository.save(newOrder());
    const readByAlice = (await repository.findById(v1.id))!;
    const readByBob = (await repository.findById(v1.id))!;
    const alice = await repository.save(withStatus(readByAlice, "cancelled"));
    await expectConflict(repository.save(withStatus(readByBob, "paid")), readByBob);
    expect(await repository.findById(v1.id), "Bob's stale write must not overwrite Alice's").toStrictEqual(alice);
  });

  it("rejects inserting an id that already exists, leaving the first order intact", async () => {
    const repository = await adapter();
    const first = await repository.save(newOrder());
    const impostor = newOrder({ id: first.id, customerId: "cus-evil", totalCents: 1 });
    await expectConflict(repository.save(impostor), impostor);
    expect(await repository.findById(first.id)).toStrictEqual(first);
  });

  it("rejects updating an order that was never stored, and does not create it", async () => {
    const repository = await adapter();
    const ghost = newOrder({ version: 4 });
    await expectConflict(repository.save(ghost), ghost);
    expect(await repository.findById(ghost.id)).toBeUndefined();
  });

  it("rejects a version from the future as firmly as a stale one", async () => {
    const repository = await adapter();
    const v1 = await repository.save(newOrder());
    const future = { ...withStatus(v1, "paid"), version: 5 };
    await expectConflict(repository.save(future), future);
    expect(await repository.findById(v1.id)).toStrictEqual(v1);
  });

  it("lets exactly one of two concurrent saves from the same version win", async () => {
    const repository = await adapter();
    const v1 = await repository.save(newOrder());
    const results = await Promise.allSettled([repository.save(withStatus(v1, "paid")), repository.save(withStatus(v1, "cancelled"))]);
    const won = results.filter((r): r is PromiseFulfilledResult<Order> => r.status === "fulfilled");
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(won.length, "optimistic locking means one writer wins and the other is told, never both succeeding").toBe(1);
    expect(lost[0]!.reason).toBeInstanceOf(ConcurrencyError);
    expect(await repository.findById(v1.id)).toStrictEqual(won[0]!.value);
  });

  it("lets exactly one of two concurrent inserts of the same id win", async () => {
    const repository = await adapter();
    const order = newOrder();
    const results = await Promise.allSettled([repository.save(order), repository.save({ ...order, customerId: "cus-other" })]);
    const won = results.filter((r): r is PromiseFulfilledResult<Order> => r.status === "fulfilled");
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(won.length).toBe(1);
    expect(lost[0]!.reason, "a duplicate key is a lost race, reported in the domain's terms").toBeInstanceOf(ConcurrencyError);
    expect(await repository.findById(order.id)).toStrictEqual(won[0]!.value);
  });

  it("hands out copies: changing an order after saving it, or one it returned, changes nothing stored", async () => {
    const repository = await adapter();
    const order = newOrder();
    const saved = await repository.save(order);
    const found = (await repository.findById(order.id))!;
    for (const alias of [order, saved, found] as { -readonly [K in keyof Order]: Order[K] }[]) {
      alias.status = "shipped";
      (alias.lines[0] as { quantity: number }).quantity = 500;
      alias.createdAt.setTime(0);
    }
    expect(await repository.findById(order.id), "storage shared with callers is a bug a database would never have").toStrictEqual(
      newOrder({ id: order.id, version: 1 }),
    );
  });
});

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
    const order = newOrder({ customerId: "cus-MARKER-7f3a", lines: [{ sku: "SKU-MARKER-7f3a", quantity: 1, unitPriceCents: 1 }], totalCents: 1 });
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

  it("writes an order and its lines together or not at all", async () => {
    const repository = await adapter();
    // Postgres refuses a NUL character in text, so this line fails after the order itself
    // could have been written: only a transaction keeps half an order out of the table.
    const broken = newOrder({ lines: [{ sku: "OK-1", quantity: 1, unitPriceCents: 1 }, { sku: "NUL\u0000", quantity: 1, unitPriceCents: 1 }] });
    const failure = await rejectionOf(repository.save(broken));
    expect(failure, "a database error that is not a lost race propagates as it is").not.toBeInstanceOf(ConcurrencyError);
    expect(await repository.findById(broken.id), "no half-written order may remain").toBeUndefined();

    const v1 = await repository.save(newOrder());
    const brokenUpdate = { ...withStatus(v1, "paid"), lines: broken.lines };
    expect(await rejectionOf(repository.save(brokenUpdate))).not.toBeInstanceOf(ConcurrencyError);
    expect(await repository.findById(v1.id), "a failed update leaves the previous version whole, lines included").toStrictEqual(v1);
  });
});
