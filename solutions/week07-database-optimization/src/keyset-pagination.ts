// Reference solution for the `keyset-pagination` kata: the cursor is the position of the last
// row, (created_at, id), signed so clients cannot forge positions, and the next page is one
// row-value comparison that the (created_at DESC, id DESC) index answers from that position.

import { createHmac, timingSafeEqual } from "node:crypto";
import type pg from "pg";

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

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;
const MIN_SECRET_BYTES = 32;

/** Where a row sits in the feed: created_at to the microsecond (ISO 8601, UTC), and its id. */
interface Position {
  readonly createdAt: string;
  readonly id: string;
}

interface PostRow {
  id: string;
  author: string;
  title: string;
  created_at: Date;
  // to_char keeps the microseconds a Date would drop: the cursor must hold the exact key.
  position: string;
}

// Newest first in exactly the index's order, so the plan is a forward walk of posts_feed_idx
// that stops after limit + 1 entries. The row-value comparison is one index condition; the
// OR form (created_at < $1 OR (created_at = $1 AND id < $2)) is not, and degrades to a
// filter over every row before the position.
const FIRST_PAGE_SQL = `
SELECT id, author, title, created_at,
       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS position
  FROM posts
 ORDER BY created_at DESC, id DESC
 LIMIT $1`;
const NEXT_PAGE_SQL = `
SELECT id, author, title, created_at,
       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS position
  FROM posts
 WHERE (created_at, id) < ($2::timestamptz, $3::bigint)
 ORDER BY created_at DESC, id DESC
 LIMIT $1`;

/** The posts feed, newest first, paginated by key. */
export class PostFeed {
  readonly #secret: string | Uint8Array;

  constructor(
    private readonly pool: pg.Pool,
    options: PostFeedOptions,
  ) {
    // Bytes, not characters: an HMAC key's strength is its byte length.
    if (Buffer.byteLength(options.secret) < MIN_SECRET_BYTES) {
      throw new RangeError(`the cursor secret must be at least ${MIN_SECRET_BYTES} bytes`);
    }
    this.#secret = options.secret;
  }

  /** One page of posts after `cursor` (or the first page). */
  async page(request: PageRequest = {}): Promise<Page> {
    const limit = request.limit ?? DEFAULT_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw new RangeError(`limit must be an integer from 1 to ${MAX_LIMIT}`);
    }
    const after = request.cursor == null ? undefined : this.#decode(request.cursor);

    // One row more than asked says whether another page exists, without a count(*).
    const { rows } = after
      ? await this.pool.query<PostRow>(NEXT_PAGE_SQL, [limit + 1, after.createdAt, after.id])
      : await this.pool.query<PostRow>(FIRST_PAGE_SQL, [limit + 1]);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map((r) => ({ id: r.id, author: r.author, title: r.title, createdAt: r.created_at })),
      nextCursor: rows.length > limit && last ? this.#encode({ createdAt: last.position, id: last.id }) : null,
    };
  }

  #sign(payload: string): Buffer {
    return createHmac("sha256", this.#secret).update(payload).digest();
  }

  #encode(position: Position): string {
    const payload = Buffer.from(JSON.stringify([position.createdAt, position.id])).toString("base64url");
    return `${payload}.${this.#sign(payload).toString("base64url")}`;
  }

  #decode(cursor: string): Position {
    const parts = cursor.split(".");
    if (parts.length !== 2) throw new InvalidCursorError("not a cursor of this feed");
    const [payload, signature] = parts as [string, string];
    const given = Buffer.from(signature, "base64url");
    const expected = this.#sign(payload);
    // Constant-time comparison: an early exit at the first wrong byte would tell a forger how
    // much of a guessed signature is right.
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new InvalidCursorError("bad signature");
    }
    // The signature proves this feed wrote the payload: it is a position, as encoded above.
    const [createdAt, id] = JSON.parse(Buffer.from(payload, "base64url").toString()) as [string, string];
    return { createdAt, id };
  }
}
