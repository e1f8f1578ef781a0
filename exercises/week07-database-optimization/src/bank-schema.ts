// The tables of the `transactions` kata. Given and complete.
//
// `accounts` deliberately has no CHECK (balance_cents >= 0): the database will not save you
// from an overdraft, so a race that causes one shows in the data. `doctors` is the classic
// write-skew example: the hospital's rule, "at least one doctor on call per shift", spans
// several rows, and no single-row constraint can express it.

import type pg from "pg";

export const BANK_TABLES_SQL = `
CREATE TABLE accounts (
  id            integer PRIMARY KEY,
  owner         text    NOT NULL,
  balance_cents bigint  NOT NULL
);
CREATE TABLE doctors (
  id       integer PRIMARY KEY,
  name     text    NOT NULL,
  shift_id integer NOT NULL,
  on_call  boolean NOT NULL
);
CREATE INDEX doctors_shift_idx ON doctors (shift_id);
`;

/** Creates the tables in the pool's schema. */
export async function createBank(pool: pg.Pool): Promise<void> {
  await pool.query(BANK_TABLES_SQL);
}
