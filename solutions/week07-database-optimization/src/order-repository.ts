// Reference solution for the `n-plus-one` kata, the repository: three statements for any page
// size (the orders, then all their items, then all their customers), joined in memory by id.

import type pg from "pg";

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

const MAX_LIMIT = 100;

interface OrderRow {
  id: number;
  customer_id: number;
  placed_at: Date;
}

interface ItemRow {
  order_id: number;
  sku: string;
  quantity: number;
  unit_price_cents: number;
}

/** Orders with their customers and items, in a constant number of queries. */
export class OrderRepository {
  constructor(private readonly pool: pg.Pool) {}

  /** A page of orders, newest (highest id) first, with customer, items and total. */
  async listOrders(request: ListOrdersRequest): Promise<OrderWithDetails[]> {
    const { limit, beforeId } = request;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
      throw new RangeError(`limit must be an integer from 1 to ${MAX_LIMIT}`);
    // LIMIT applies to orders, not to order × item rows: a join with LIMIT would cut a page in
    // the middle of an order's items and return fewer orders than asked for.
    const { rows: orders } = await this.pool.query<OrderRow>(
      `SELECT id, customer_id, placed_at FROM orders
        WHERE $2::integer IS NULL OR id < $2
        ORDER BY id DESC
        LIMIT $1`,
      [limit, beforeId ?? null],
    );
    if (orders.length === 0) return [];

    // One array parameter instead of an IN list: one statement text for every page size, so
    // Postgres and pg_stat_statements see one query, not one per length.
    const [{ rows: items }, customers] = await Promise.all([
      this.pool.query<ItemRow>(
        `SELECT order_id, sku, quantity, unit_price_cents FROM order_items
          WHERE order_id = ANY($1::integer[])
          ORDER BY order_id, id`,
        [orders.map((o) => o.id)],
      ),
      this.customersByIds([...new Set(orders.map((o) => o.customer_id))]),
    ]);

    const itemsByOrder = new Map<number, OrderItem[]>();
    for (const row of items) {
      let list = itemsByOrder.get(row.order_id);
      if (!list) itemsByOrder.set(row.order_id, (list = []));
      list.push({ sku: row.sku, quantity: row.quantity, unitPriceCents: row.unit_price_cents });
    }
    const customerById = new Map(customers.filter((c): c is Customer => c !== null).map((c) => [c.id, c]));

    return orders.map((order) => {
      const orderItems = itemsByOrder.get(order.id) ?? [];
      return {
        id: order.id,
        placedAt: order.placed_at,
        // The foreign key guarantees the customer exists.
        customer: customerById.get(order.customer_id)!,
        items: orderItems,
        totalCents: orderItems.reduce((sum, item) => sum + item.quantity * item.unitPriceCents, 0),
      };
    });
  }

  /** Customers for `ids`, in the order of `ids`, null where there is none. One query. */
  async customersByIds(ids: readonly number[]): Promise<(Customer | null)[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.pool.query<Customer>(
      "SELECT id, name, email FROM customers WHERE id = ANY($1::integer[])",
      [[...ids]],
    );
    // SQL returns rows in whatever order it found them, and none for a missing id: the batch
    // contract is positional, so put each row back at its key's place.
    const byId = new Map(rows.map((c) => [c.id, c]));
    return ids.map((id) => byId.get(id) ?? null);
  }
}
