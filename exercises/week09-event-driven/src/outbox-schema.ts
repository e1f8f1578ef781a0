/**
 * The order service's tables for the transactional-outbox kata. `orders` is the business
 * table; `outbox` holds the events that must be published, written in the same transaction.
 * `position` is the order of insertion: per order (aggregate), the order the events happened in.
 */

import type pg from "pg";

export async function createOutboxSchema(pool: pg.Pool): Promise<void> {
  await pool.query(`
    CREATE TABLE IF NOT EXISTS orders (
      id          text PRIMARY KEY,
      customer_id text NOT NULL,
      total_cents bigint NOT NULL CHECK (total_cents >= 0),
      lines       integer NOT NULL DEFAULT 0
    );
    CREATE TABLE IF NOT EXISTS outbox (
      position     bigserial PRIMARY KEY,
      event_id     uuid NOT NULL UNIQUE,
      aggregate_id text NOT NULL,
      event_type   text NOT NULL,
      payload      jsonb NOT NULL,
      occurred_at  timestamptz NOT NULL,
      sent_at      timestamptz
    );
    -- The relay's two questions: "what is unsent, oldest first" and "is there an older unsent
    -- event of this aggregate"; both stay cheap however many sent rows wait to be pruned.
    CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (position) WHERE sent_at IS NULL;
    CREATE INDEX IF NOT EXISTS outbox_unsent_by_aggregate ON outbox (aggregate_id, position) WHERE sent_at IS NULL;
    CREATE INDEX IF NOT EXISTS outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;
  `);
}
