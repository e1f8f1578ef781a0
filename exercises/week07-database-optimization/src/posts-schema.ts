// The table of the `keyset-pagination` kata. Given and complete.
//
// The feed is read newest first: ORDER BY created_at DESC, id DESC. created_at alone is not
// unique (several posts can share one instant), so id breaks the ties, and the index is on
// both columns, in the feed's order.

import type pg from "pg";

export const POSTS_TABLE_SQL = `
CREATE TABLE posts (
  id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  author     text        NOT NULL,
  title      text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX posts_feed_idx ON posts (created_at DESC, id DESC);
`;

// Posts come in threes that share one created_at, with microseconds, as timestamps written by
// a busy server do: a JavaScript Date (milliseconds) cannot hold them exactly.
export const SEED_POSTS_SQL = `
INSERT INTO posts (author, title, created_at)
SELECT 'author-' || (i % 97), 'post ' || i,
       timestamptz '2024-01-01 00:00:00+00' + (i / 3) * interval '1 minute 0.123457 seconds'
FROM generate_series(1::bigint, $1::bigint) AS i`;

/** Creates `posts` in the pool's schema and fills it with `rows` posts (ids 1..rows). */
export async function createPosts(pool: pg.Pool, rows: number): Promise<void> {
  await pool.query(POSTS_TABLE_SQL);
  await pool.query(SEED_POSTS_SQL, [rows]);
  await pool.query("ANALYZE posts");
}
