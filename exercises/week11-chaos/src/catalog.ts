/**
 * The resilient service's domain: a product catalog in Postgres, cached in Redis. Shared by
 * the skeleton, the solution and the tests.
 */
import type pg from "pg";

export interface Product {
  readonly id: string;
  readonly name: string;
  readonly priceCents: number;
  /**
   * Orders the writes of one product: a write carries a version higher than every earlier
   * one, and nothing with a lower version may overwrite it, in Postgres or in the cache.
   */
  readonly version: number;
}

/** Creates the products table (in the pool's search_path) and inserts `count` products p1..pN at version 1. */
export async function createCatalog(pool: pg.Pool, count: number): Promise<void> {
  await pool.query(`CREATE TABLE IF NOT EXISTS products (
    id text PRIMARY KEY,
    name text NOT NULL,
    price_cents integer NOT NULL,
    version bigint NOT NULL
  )`);
  await pool.query(
    `INSERT INTO products (id, name, price_cents, version)
     SELECT 'p' || i, 'product ' || i, 100 * i, 1 FROM generate_series(1, $1::int) AS i
     ON CONFLICT (id) DO NOTHING`,
    [count],
  );
}
