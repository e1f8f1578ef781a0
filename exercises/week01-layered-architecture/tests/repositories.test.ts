/**
 * repositories: one port, two adapters, one contract. The same suite runs against the
 * in-memory adapter and the Postgres adapter (describe.each), so whatever passes against the
 * fast fake also holds in production. What only a database can fail is checked in
 * repositories-postgres.test.ts.
 *
 * Postgres comes from the course's fixture: this file gets a schema of its own, dropped after.
 */
import { randomUUID } from "node:crypto";
import type pg from "pg";
import { describe, expect, it } from "vitest";
import { usePostgres } from "#fixtures/postgres";
import { InMemoryOrderRepository } from "../src/in-memory-order-repository";
import type { Order, OrderStatus } from "../src/order";
import { PgOrderRepository } from "../src/pg-order-repository";
import type { OrderRepository } from "../src/ports";
import { expectConflict, expectOneWinner, newOrder, withStatus } from "./support/orders";
import { startingLine } from "./support/starting-line";

const postgres = usePostgres();

let sharedPool: pg.Pool | undefined;
const pool = () => (sharedPool ??= postgres.pool({ max: 4 }));

/** A repository and a way to start saves on it so that they really run at the same time. */
interface Racer {
  repository: OrderRepository;
  race<T>(racers: number, run: () => Promise<T>): Promise<T>;
}

const adapters: { name: string; create: () => Promise<OrderRepository>; racer: () => Promise<Racer> }[] = [
  {
    name: "InMemoryOrderRepository",
    create: async () => new InMemoryOrderRepository(),
    racer: async () => ({ repository: new InMemoryOrderRepository(), race: (_racers, run) => run() }),
  },
  {
    name: "PgOrderRepository",
    create: async () => {
      const repository = new PgOrderRepository(pool());
      await repository.migrate();
      return repository;
    },
    racer: async () => {
      const line = startingLine(postgres.pool({ max: 8 }));
      const repository = new PgOrderRepository(line.pool);
      await repository.migrate();
      return { repository, race: line.race };
    },
  },
];

describe.each(adapters)("$name keeps the OrderRepository contract", ({ create, racer }) => {
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
    const changed: Order = {
      ...v1,
      lines: [{ sku: "MOUSE-7", quantity: 4, unitPriceCents: 1_999 }],
      totalCents: 7_996,
    };
    await repository.save(changed);
    expect(
      await repository.findById(v1.id),
      "save stores the aggregate as given, not just the fields that usually change",
    ).toStrictEqual({
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

  it("lets exactly one of five concurrent saves from the same version win, and tells the other four", async () => {
    const { repository, race } = await racer();
    const v1 = await repository.save(newOrder());
    const moves: OrderStatus[] = ["paid", "cancelled", "shipped", "paid", "cancelled"];
    const results = await race(moves.length, () =>
      Promise.allSettled(moves.map((status) => repository.save(withStatus(v1, status)))),
    );
    const winner = expectOneWinner(
      results,
      "optimistic locking lets one writer win and tells the others. Reading the version, checking it, then updating by id " +
        "alone is a lost update: every writer passes the check before any of them commits. The version check belongs in " +
        "the write itself (UPDATE ... WHERE id = $1 AND version = $n), with nothing awaited between check and write in memory",
    );
    expect(await repository.findById(v1.id), "what is stored is the winner's write").toStrictEqual(winner);
  });

  it("lets exactly one of five concurrent inserts of the same id win", async () => {
    const { repository, race } = await racer();
    const order = newOrder();
    const customers = ["cus-a", "cus-b", "cus-c", "cus-d", "cus-e"];
    const results = await race(customers.length, () =>
      Promise.allSettled(customers.map((customerId) => repository.save({ ...order, customerId }))),
    );
    const winner = expectOneWinner(
      results,
      "an id can be inserted once; a duplicate key is a lost race, reported in the domain's terms",
    );
    expect(await repository.findById(order.id)).toStrictEqual(winner);
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
    expect(
      await repository.findById(order.id),
      "storage shared with callers is a bug a database would never have",
    ).toStrictEqual(newOrder({ id: order.id, version: 1 }));
  });
});
