// Reference solution for the `indexing` kata: four indexes, one per query shape, none of them
// a prefix of another, so each pays its write cost for a query that needs it.

/** The migration: SQL statements, run one by one, in this order. */
export const INDEX_MIGRATION: readonly string[] = [
  // Equality column first, range column last: the customer's rows sit together in the index,
  // already ordered by created_at, so the range is one contiguous slice and the ORDER BY is free.
  // The other order, (created_at, customer_id), would walk a quarter of all orders in the
  // index to pick out one customer's.
  "CREATE INDEX orders_customer_created_idx ON orders (customer_id, created_at)",
  // The report reads created_at and total_cents only: carrying total_cents in the leaf pages
  // (INCLUDE, not a key column: it is never searched or sorted on) lets an Index Only Scan
  // answer it without visiting the heap, once VACUUM has marked the pages all-visible.
  "CREATE INDEX orders_created_revenue_idx ON orders (created_at) INCLUDE (total_cents)",
  // 0.5 % of the orders are pending: an index of just those is ~200 times smaller than a full
  // one, stays in cache, and costs nothing when a delivered order changes. The query's WHERE
  // must imply the index's predicate for the planner to use it.
  "CREATE INDEX orders_pending_created_idx ON orders (created_at) WHERE status = 'pending'",
  // An index on email cannot answer lower(email) = ...: index the expression itself.
  "CREATE INDEX orders_email_lower_idx ON orders (lower(email))",
];
