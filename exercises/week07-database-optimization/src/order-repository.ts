// Kata: n-plus-one (1 of 2: the repository; the batcher is src/batcher.ts)
//
// The order history page shows a page of orders, each with its customer and its items. The
// obvious code loads the page, then, for each order, its customer and its items: 1 + 2N
// queries, 201 round trips for a page of 100, each one a network hop and a parse. It is
// invisible on a laptop and the first thing to fall over in production.
//
// Build OrderRepository over the tables of src/shop-schema.ts:
// - listOrders({ limit, beforeId }): the `limit` newest orders (highest id first; with
//   beforeId, only orders with a smaller id), each with its customer and its items (in item id
//   order; [] when it has none) and its total. A constant number of statements, whatever the
//   limit: at most 5 (the tests count every statement the pool sends, BEGIN and COMMIT included).
// - customersByIds(ids): one statement for any number of ids; answers in the order of `ids`,
//   one entry per id, null for an id with no customer. It is a batch function for the Batcher.
// limit is an integer from 1 to 100, anything else a RangeError.
// Tests: tests/n-plus-one.test.ts (npm run check week7 n-plus-one).
// Keep the exported names and signatures: the tests import them.

import type pg from "pg";
import { NotImplementedError } from "#kata";

export interface Customer {
  readonly id: number;
  readonly name: string;
  readonly email: string;
}

export interface OrderItem {
  readonly sku: string;
  readonly quantity: number;
  readonly unitPriceCents: number;
}

export interface OrderWithDetails {
  readonly id: number;
  readonly placedAt: Date;
  readonly customer: Customer;
  /** In item id order; empty when the order has no items. */
  readonly items: readonly OrderItem[];
  /** Sum of quantity × unit price over the items. */
  readonly totalCents: number;
}

export interface ListOrdersRequest {
  /** Orders per page, an integer from 1 to 100. */
  readonly limit: number;
  /** Only orders with an id below this one (the last id of the previous page). */
  readonly beforeId?: number;
}

/** Orders with their customers and items, in a constant number of queries. */
export class OrderRepository {
  constructor(private readonly pool: pg.Pool) {}

  /** A page of orders, newest (highest id) first, with customer, items and total. */
  async listOrders(request: ListOrdersRequest): Promise<OrderWithDetails[]> {
    // TODO: one query for the page of orders, then one for all their items
    //       (order_id = ANY($1)) and one for all their customers; assemble in memory.
    throw new NotImplementedError("n-plus-one");
  }

  /** Customers for `ids`, in the order of `ids`, null where there is none. One query. */
  async customersByIds(ids: readonly number[]): Promise<(Customer | null)[]> {
    // TODO: WHERE id = ANY($1), then put each row back at its key's position.
    throw new NotImplementedError("n-plus-one");
  }
}
