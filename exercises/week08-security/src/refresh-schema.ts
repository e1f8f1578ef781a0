// The Postgres tables of the refresh-rotation kata. Given and complete.
//
// A family is one login: every token rotated from it belongs to it, and revoking the family
// ends the session on every token at once. A token row holds only the SHA-256 of the token,
// so whoever reads this table (a backup, a replica, an injection elsewhere) gets no session.

import type pg from "pg";

export const REFRESH_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS refresh_families (
  id             uuid        PRIMARY KEY,
  user_id        text        NOT NULL,
  created_at     timestamptz NOT NULL,
  -- The absolute end of the session: rotation never moves a token's expiry past it.
  expires_at     timestamptz NOT NULL,
  revoked_at     timestamptz,
  -- For the audit log: 'logout', 'logout-everywhere' or 'reuse'.
  revoked_reason text
);
CREATE INDEX IF NOT EXISTS refresh_families_user_idx ON refresh_families (user_id);

CREATE TABLE IF NOT EXISTS refresh_tokens (
  -- SHA-256 of the token (32 bytes). The token itself is never stored.
  token_hash bytea       PRIMARY KEY CHECK (octet_length(token_hash) = 32),
  family_id  uuid        NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
  issued_at  timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  -- Set when the token is exchanged for its successor. A second exchange is reuse.
  used_at    timestamptz
);
CREATE INDEX IF NOT EXISTS refresh_tokens_family_idx ON refresh_tokens (family_id);
`;

/** Creates the tables in the pool's schema (its search_path). Run once, before the service starts. */
export async function createRefreshSchema(pool: pg.Pool): Promise<void> {
  await pool.query(REFRESH_SCHEMA_SQL);
}
