// Kata: keyset-pagination
//
// The feed (src/posts-schema.ts) is read newest first, ORDER BY created_at DESC, id DESC, one
// page at a time. `LIMIT 20 OFFSET 19980` makes Postgres produce and throw away 19 980 rows to
// return page 1000, and a post published while someone pages shifts every later page by one:
// they see a row twice. Keyset pagination instead remembers where the last page ended and asks
// for the rows after that position, a query the index answers in a few pages at any depth.
//
// Build PostFeed.page({ limit, cursor }):
// - items newest first by (created_at, id); nextCursor for the page after, null exactly when
//   there is none (no empty last page);
// - no row skipped or repeated while posts are inserted between pages, including posts that
//   share a created_at (which has microseconds: a JavaScript Date keeps milliseconds only);
// - the cursor is an opaque string signed with HMAC (node:crypto) under `secret`: a cursor
//   that was tampered with, made under another secret, or is not a cursor at all is an
//   InvalidCursorError (an HTTP layer answers it with 400), never a database error;
// - limit is an integer from 1 to 100 (default 20), anything else a RangeError; a secret
//   shorter than 32 bytes is a RangeError too;
// - the page query reads the index posts_feed_idx in order: no Seq Scan, no Sort, and as few
//   pages for page 1000 as for page 1 (the tests EXPLAIN the statements you send).
// Tests: tests/keyset-pagination.test.ts, tests/keyset-plans.test.ts
// (npm run check week7 keyset-pagination).
// Keep the exported names and signatures: the tests import them.

import type pg from "pg";
import { NotImplementedError } from "#kata";

/** One post of the feed. */
export interface Post {
  readonly id: string;
  readonly author: string;
  readonly title: string;
  readonly createdAt: Date;
}

/** A page of the feed and the cursor of the next one (null when this page is the last). */
export interface Page {
  readonly items: readonly Post[];
  readonly nextCursor: string | null;
}

export interface PageRequest {
  /** Posts per page, an integer from 1 to 100; default 20. */
  readonly limit?: number;
  /** The nextCursor of the previous page; absent or null for the first page. */
  readonly cursor?: string | null;
}

export interface PostFeedOptions {
  /** The HMAC key that signs cursors: at least 32 bytes. */
  readonly secret: string | Uint8Array;
}

/** The cursor was not made by this feed under this secret. An HTTP layer answers 400. */
export class InvalidCursorError extends Error {
  readonly code = "ERR_INVALID_CURSOR";
  readonly status = 400;

  constructor(reason: string) {
    super(`invalid cursor: ${reason}`);
    this.name = "InvalidCursorError";
  }
}

/** The posts feed, newest first, paginated by key. */
export class PostFeed {
  constructor(
    private readonly pool: pg.Pool,
    options: PostFeedOptions,
  ) {
    // TODO: keep the secret as bytes; refuse one shorter than 32 bytes with a RangeError.
    throw new NotImplementedError("keyset-pagination");
  }

  /** One page of posts after `cursor` (or the first page). */
  async page(request: PageRequest = {}): Promise<Page> {
    // TODO: validate limit; decode and verify the cursor (InvalidCursorError);
    // TODO: fetch limit + 1 rows after the cursor's (created_at, id) with one row-value
    //       comparison, in index order; return limit items and a signed cursor of the last.
    throw new NotImplementedError("keyset-pagination");
  }
}
