// The tables of the `n-plus-one` kata. Given and complete.
//
// An order belongs to one customer and has zero or more items; many orders share a customer.

import type pg from "pg";

export const SHOP_TABLES_SQL = `
CREATE TABLE customers (
  id    integer PRIMARY KEY,
  name  text    NOT NULL,
  email text    NOT NULL
);
CREATE TABLE orders (
  id          integer     PRIMARY KEY,
  customer_id integer     NOT NULL REFERENCES customers (id),
  placed_at   timestamptz NOT NULL
);
CREATE INDEX orders_customer_idx ON orders (customer_id);
CREATE TABLE order_items (
  id               integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  order_id         integer NOT NULL REFERENCES orders (id),
  sku              text    NOT NULL,
  quantity         integer NOT NULL CHECK (quantity > 0),
  unit_price_cents integer NOT NULL CHECK (unit_price_cents >= 0)
);
CREATE INDEX order_items_order_idx ON order_items (order_id);
`;

// 40 customers, 300 orders (ids 1..300, a higher id placed later), 0 to 4 items each: every
// fifth order has none.
export const SEED_SHOP_SQL = `
INSERT INTO customers (id, name, email)
SELECT c, 'Customer ' || c, 'customer' || c || '@example.com' FROM generate_series(1, 40) AS c;
INSERT INTO orders (id, customer_id, placed_at)
SELECT o, 1 + (o * 7) % 40, timestamptz '2025-03-01 00:00:00+00' + o * interval '17 minutes'
FROM generate_series(1, 300) AS o;
INSERT INTO order_items (order_id, sku, quantity, unit_price_cents)
SELECT o, 'SKU-' || ((o * 13 + n) % 50), 1 + (o + n) % 3, 199 + ((o * 31 + n * 7) % 5000)
FROM generate_series(1, 300) AS o, generate_series(1, 4) AS n
WHERE n <= o % 5
ORDER BY o, n;
ANALYZE customers;
ANALYZE orders;
ANALYZE order_items;
`;

/** Creates and fills the shop's tables in the pool's schema. */
export async function createShop(pool: pg.Pool): Promise<void> {
  await pool.query(SHOP_TABLES_SQL);
  await pool.query(SEED_SHOP_SQL);
}
