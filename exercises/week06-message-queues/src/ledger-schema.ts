// The Postgres tables of the idempotent-consumer and graceful-worker katas. Given and complete.
//
// `accounts` is the domain: the effect is `balance_cents = balance_cents + amount`, which is
// deliberately not idempotent, so a double effect shows. `processed_messages` is the
// consumer's inbox: one row per message id it has applied, with the result it answered.

import type pg from "pg";

export const LEDGER_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS accounts (
  id            text   PRIMARY KEY,
  balance_cents bigint NOT NULL DEFAULT 0 CHECK (balance_cents >= 0)
);

CREATE TABLE IF NOT EXISTS processed_messages (
  message_id   text        PRIMARY KEY,
  -- Written in the same transaction as the effect; NULL only inside that transaction.
  result       jsonb,
  processed_at timestamptz NOT NULL DEFAULT now()
);
`;

/** Creates the tables in the pool's schema (its search_path). Run once, before any consumer starts. */
export async function createLedgerSchema(pool: pg.Pool): Promise<void> {
  await pool.query(LEDGER_SCHEMA_SQL);
}
