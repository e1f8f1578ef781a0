// Kata: indexing
//
// `orders` (src/orders-schema.ts) holds 200 000 rows and has only its primary key, so each of
// the four queries in SLOW_QUERIES reads the whole table: a Seq Scan of ~2 200 pages to
// return a few hundred rows or fewer. Write the migration that fixes all four, and nothing more.
//
// The tests run your statements one by one, in order, outside a transaction (so
// CREATE INDEX CONCURRENTLY works too), then VACUUM ANALYZE the table and read the plans:
// - no query reads `orders` with a Seq Scan, and each returns exactly what it returned before;
// - customerOrders (equality on customer_id, range on created_at) reads about one page per
//   row it returns: the composite index's column order decides that;
// - dailyRevenue is answered by an Index Only Scan: the index carries every column it reads;
// - oldestPending is served by a partial index, one that holds only the pending orders;
// - ordersByEmail, which compares lower(email), is served by an index;
// - every index you create is used by one of the four queries, and none is redundant (its key
//   columns a leading prefix of another index's, with the same WHERE): each index is paid for
//   on every INSERT and on every UPDATE that touches its columns.
// Tests: tests/indexing.test.ts (npm run check week7 indexing).
// Keep the exported name and type: the tests import it.

/** The migration: SQL statements, run one by one, in this order. */
export const INDEX_MIGRATION: readonly string[] = [
  // TODO: one CREATE INDEX per statement, for example
  //   "CREATE INDEX orders_something_idx ON orders (some_column)",
  // then run `npm run check week7 indexing` and read the plans the failures print.
];
