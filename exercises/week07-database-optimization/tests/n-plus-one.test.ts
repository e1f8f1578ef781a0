import type pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import { usePostgres } from "#fixtures/postgres";
import { Batcher } from "../src/batcher";
import { OrderRepository, type Customer, type OrderWithDetails } from "../src/order-repository";
import { createShop } from "../src/shop-schema";
import { recordingPool, type RecordingPool } from "./support/sessions";
import { failureOf } from "./support/failure";

const postgres = usePostgres();
let counted: RecordingPool;
let plain: pg.Pool;

beforeAll(async () => {
  plain = postgres.pool({ max: 2 });
  counted = recordingPool(postgres, { max: 4 });
  await createShop(plain);
});

/** The page as one straightforward (N+1) reading of the tables would build it: the expected answer. */
async function expectedPage(limit: number, beforeId?: number): Promise<OrderWithDetails[]> {
  const { rows: orders } = await plain.query<{ id: number; customer_id: number; placed_at: Date }>(
    "SELECT id, customer_id, placed_at FROM orders WHERE $2::int IS NULL OR id < $2 ORDER BY id DESC LIMIT $1",
    [limit, beforeId ?? null],
  );
  const page: OrderWithDetails[] = [];
  for (const order of orders) {
    const { rows: customer } = await plain.query<Customer>("SELECT id, name, email FROM customers WHERE id = $1", [
      order.customer_id,
    ]);
    const { rows: items } = await plain.query<{ sku: string; quantity: number; unitPriceCents: number }>(
      'SELECT sku, quantity, unit_price_cents AS "unitPriceCents" FROM order_items WHERE order_id = $1 ORDER BY id',
      [order.id],
    );
    const totalCents = items.reduce((sum, i) => sum + i.quantity * i.unitPriceCents, 0);
    page.push({ id: order.id, placedAt: order.placed_at, customer: customer[0]!, items, totalCents });
  }
  return page;
}

/** What the repository sent to fetch one page, and the page. */
async function measured(limit: number, beforeId?: number) {
  const repository = new OrderRepository(counted.pool);
  counted.take();
  const page = await repository.listOrders(beforeId === undefined ? { limit } : { limit, beforeId });
  return { page, statements: counted.take().map((q) => q.text.replace(/\s+/g, " ").trim()) };
}

describe("loads a page of orders with customers and items in a constant number of queries", () => {
  it("answers each order with its customer, its items in item id order and its total", async () => {
    const { page } = await measured(12);
    expect(page, "the page, newest first, as the tables say").toEqual(await expectedPage(12));
    expect(
      page.filter((o) => o.items.length === 0).length,
      "an order without items is in the page, with items: []",
    ).toBeGreaterThan(0);
  });

  it("sends as many statements for 100 orders as for 1, and no more than 5", async () => {
    const one = await measured(1);
    const ten = await measured(10);
    const hundred = await measured(100);
    expect(hundred.page).toHaveLength(100);
    expect(
      hundred.statements.length,
      `100 orders took ${hundred.statements.length} statements, 1 order took ${one.statements.length}: ` +
        "a query per order (for its customer, for its items) is the N+1 pattern; " +
        "fetch them all with one = ANY($1) each. Sent for 10: " +
        ten.statements.join(" | "),
    ).toBe(one.statements.length);
    expect(ten.statements.length).toBe(one.statements.length);
    expect(
      hundred.statements.length,
      `a constant, and a small one: ${hundred.statements.join(" | ")}`,
    ).toBeLessThanOrEqual(5);
  });

  it("limits orders, not joined rows: a page of 7 has 7 orders with all their items", async () => {
    for (const limit of [7, 33]) {
      const { page } = await measured(limit);
      expect(
        page.map((o) => o.id),
        "LIMIT on orders JOIN order_items counts item rows and cuts the page mid-order",
      ).toEqual((await expectedPage(limit)).map((o) => o.id));
      expect(page).toEqual(await expectedPage(limit));
    }
  });

  it("pages with beforeId, and answers [] past the oldest order", async () => {
    const first = await measured(50);
    const next = await measured(50, first.page[first.page.length - 1]!.id);
    expect(next.page).toEqual(await expectedPage(50, first.page[first.page.length - 1]!.id));
    expect((await measured(10, 1)).page, "no order has an id below 1").toEqual([]);
  });

  it("refuses a limit outside 1..100 with RangeError", async () => {
    const repository = new OrderRepository(counted.pool);
    for (const limit of [0, 101, 1.5])
      expect(await failureOf(repository.listOrders({ limit })), `limit ${limit}`).toBeInstanceOf(RangeError);
  });
});

describe("customersByIds is a batch function: one query, answers in key order", () => {
  it("answers one entry per id, in the order asked, null for an unknown id, in one statement", async () => {
    const repository = new OrderRepository(counted.pool);
    counted.take();
    const answer = await repository.customersByIds([17, 3, 999, 40, 1]);
    expect(counted.take(), "one statement for all the ids").toHaveLength(1);
    expect(
      answer.map((c) => c?.id ?? null),
      "SQL returns rows in any order and none for a missing id: a batch answer is positional, " +
        "so put each row at its key's place",
    ).toEqual([17, 3, null, 40, 1]);
    expect(answer[0]).toEqual({ id: 17, name: "Customer 17", email: "customer17@example.com" });
  });

  it("lets twenty resolvers that each ask for one order's customer share one query through the Batcher", async () => {
    const repository = new OrderRepository(counted.pool);
    const { rows: orders } = await plain.query<{ id: number; customer_id: number }>(
      "SELECT id, customer_id FROM orders ORDER BY id LIMIT 20",
    );
    const customers = new Batcher<number, Customer | null>((ids) => repository.customersByIds(ids));
    counted.take();
    // The shape of a GraphQL resolver: each order's customer field resolves on its own.
    const resolved = await Promise.all(
      orders.map(async (order) => {
        await Promise.resolve();
        return (await customers.load(order.customer_id))?.id;
      }),
    );
    expect(resolved).toEqual(orders.map((o) => o.customer_id));
    expect(counted.take(), "twenty loads in one tick are one batch: one statement").toHaveLength(1);
  });
});
