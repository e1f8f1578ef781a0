// The Postgres table of the input-hardening kata. Given and complete.
//
// role and email_verified are the columns a mass-assignment attack goes for: the API never
// lets a request body set them.

import type pg from "pg";

export const USERS_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS users (
  id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email          text        NOT NULL,
  display_name   text        NOT NULL,
  password_hash  text        NOT NULL,
  role           text        NOT NULL DEFAULT 'member',
  email_verified boolean     NOT NULL DEFAULT false,
  settings       jsonb       NOT NULL
                 DEFAULT '{"theme": "system", "locale": "en", "notifications": {"email": true, "sms": false}}',
  created_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE UNIQUE INDEX IF NOT EXISTS users_email_idx ON users (lower(email));
`;

/** Creates the table in the pool's schema (its search_path). Run once, before the app starts. */
export async function createUsersSchema(pool: pg.Pool): Promise<void> {
  await pool.query(USERS_SCHEMA_SQL);
}
