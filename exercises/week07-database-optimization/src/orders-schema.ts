// The table and the four slow queries of the `indexing` kata. Given and complete: the tests
// seed this table, run exactly these queries with exactly these parameters, and read their
// plans. Run them yourself with EXPLAIN (ANALYZE, BUFFERS) while you work (see the README).

import type pg from "pg";

/** 200 000 orders, one year of them, 1 000 per customer, about 0.5 % still pending. */
export const ORDER_ROWS = 200_000;

export const ORDERS_TABLE_SQL = `
CREATE TABLE orders (
  id          bigint      PRIMARY KEY,
  customer_id integer     NOT NULL,
  status      text        NOT NULL,
  total_cents integer     NOT NULL,
  email       text        NOT NULL,
  created_at  timestamptz NOT NULL
)`;

// Deterministic data: the same rows on every run, so every plan is the same on every run.
// Rows arrive in created_at order (as orders do), customers and emails are spread over the year.
export const SEED_ORDERS_SQL = `
INSERT INTO orders (id, customer_id, status, total_cents, email, created_at)
SELECT i,
       1 + (i * 7919) % 200,
       CASE WHEN i % 197 = 0 THEN 'pending'
            WHEN i % 11 = 0 THEN 'cancelled'
            WHEN i % 3 = 0 THEN 'shipped'
            ELSE 'delivered' END,
       100 + (i * 104729) % 50000,
       'Guest' || (i * 31) % 50000 || '@Example.COM',
       timestamptz '2024-01-01 00:00:00+00' + i * interval '157 seconds'
FROM generate_series(1::bigint, $1::bigint) AS i`;

/** One of the four queries: what it is for, its SQL and the parameters the tests use. */
export interface SlowQuery {
  readonly purpose: string;
  readonly sql: string;
  readonly params: readonly unknown[];
}

export const SLOW_QUERIES = {
  /** The account page: one customer's orders in a quarter, oldest first. */
  customerOrders: {
    purpose: "one customer's orders in a date range (equality on customer_id, range on created_at)",
    sql: `SELECT id, status, total_cents, created_at
            FROM orders
           WHERE customer_id = $1 AND created_at >= $2 AND created_at < $3
           ORDER BY created_at`,
    params: [42, "2024-03-01T00:00:00Z", "2024-06-01T00:00:00Z"],
  },
  /** The finance report: one day's order count and revenue. */
  dailyRevenue: {
    purpose: "one day's count and revenue (a range on created_at, reading total_cents)",
    sql: `SELECT count(*)::int AS orders, sum(total_cents)::bigint AS revenue_cents
            FROM orders
           WHERE created_at >= $1 AND created_at < $2`,
    params: ["2024-05-10T00:00:00Z", "2024-05-11T00:00:00Z"],
  },
  /** The fulfilment job: the 50 oldest orders still pending. */
  oldestPending: {
    purpose: "the 50 oldest pending orders (a filter that matches 0.5 % of the rows)",
    sql: `SELECT id, customer_id, created_at
            FROM orders
           WHERE status = 'pending'
           ORDER BY created_at
           LIMIT 50`,
    params: [],
  },
  /** The support desk: a guest's orders, whatever case the email was typed in. */
  ordersByEmail: {
    purpose: "a guest's orders by email, case-insensitively (lower(email))",
    sql: `SELECT id, customer_id, total_cents
            FROM orders
           WHERE lower(email) = lower($1)
           ORDER BY id`,
    params: ["guest1234@example.com"],
  },
} as const satisfies Record<string, SlowQuery>;

export type SlowQueryName = keyof typeof SLOW_QUERIES;

/** Creates and fills `orders` in the pool's schema, then collects its statistics. */
export async function createOrders(pool: pg.Pool, rows: number = ORDER_ROWS): Promise<void> {
  await pool.query(ORDERS_TABLE_SQL);
  await pool.query(SEED_ORDERS_SQL, [rows]);
  await pool.query("ANALYZE orders");
}
