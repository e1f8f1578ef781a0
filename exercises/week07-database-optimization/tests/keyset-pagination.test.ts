import type pg from "pg";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { usePostgres } from "#fixtures/postgres";
import { InvalidCursorError, PostFeed, type Page } from "../src/keyset-pagination";
import { POSTS_TABLE_SQL, SEED_POSTS_SQL } from "../src/posts-schema";
import { failureOf } from "./support/failure";

const postgres = usePostgres();
const SECRET = "a-test-secret-of-at-least-32-bytes!!";
let pool: pg.Pool;

beforeAll(async () => {
  pool = postgres.pool({ max: 3 });
  await pool.query(POSTS_TABLE_SQL);
});

/** A fresh feed of `rows` seeded posts (ids 1..rows, in threes that share a created_at). */
async function seed(rows: number): Promise<void> {
  await pool.query("TRUNCATE posts RESTART IDENTITY");
  await pool.query(SEED_POSTS_SQL, [rows]);
}
beforeEach(() => seed(0));

/** The feed as the database orders it: what paging must reproduce. */
async function feedOrder(): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>("SELECT id FROM posts ORDER BY created_at DESC, id DESC");
  return rows.map((r) => r.id);
}

async function insertPost(createdAt: string | null): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO posts (author, title, created_at)
     VALUES ('late', 'inserted while paging', COALESCE($1::timestamptz, now()))
     RETURNING id`,
    [createdAt],
  );
  return rows[0]!.id;
}

async function createdAtOf(id: string): Promise<string> {
  const { rows } = await pool.query<{ at: string }>("SELECT created_at::text AS at FROM posts WHERE id = $1", [id]);
  return rows[0]!.at;
}

/** Reads the whole feed, page by page, running `between` after each page. */
async function readAll(
  feed: PostFeed,
  limit: number,
  between: (page: Page) => Promise<void> = async () => {},
): Promise<Page[]> {
  const pages: Page[] = [];
  let cursor: string | null = null;
  do {
    const page: Page = await feed.page({ limit, cursor });
    pages.push(page);
    if (pages.length > 500) throw new Error("the feed never ends: nextCursor is never null");
    await between(page);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return pages;
}

const ids = (pages: readonly Page[]) => pages.flatMap((p) => p.items.map((post) => post.id));

describe("pages through the feed newest first", () => {
  it("answers the newest posts first, ordered by created_at then id, with their fields", async () => {
    await seed(25);
    const feed = new PostFeed(pool, { secret: SECRET });
    const page = await feed.page({ limit: 7 });
    expect(
      page.items.map((p) => p.id),
      "newest first: created_at DESC, and id DESC among equal created_at",
    ).toEqual((await feedOrder()).slice(0, 7));
    const { rows } = await pool.query<{ author: string; title: string; created_at: Date }>(
      "SELECT author, title, created_at FROM posts WHERE id = $1",
      [page.items[0]!.id],
    );
    expect(page.items[0]).toEqual({
      id: page.items[0]!.id,
      author: rows[0]!.author,
      title: rows[0]!.title,
      createdAt: rows[0]!.created_at,
    });
    expect(page.nextCursor, "there are more posts, so there is a next page").toEqual(expect.any(String));
  });

  it("returns 20 posts per page by default and every post exactly once, in feed order", async () => {
    await seed(61);
    const pages = await readAll(new PostFeed(pool, { secret: SECRET }), 20);
    expect(pages[0]!.items, "the default page size is 20").toHaveLength(20);
    expect(ids(pages), "walking all pages must give the feed, in order, each post once").toEqual(await feedOrder());
  });

  it("ends with nextCursor null on the last page, and no empty page when posts fill the pages exactly", async () => {
    await seed(30);
    const pages = await readAll(new PostFeed(pool, { secret: SECRET }), 10);
    expect(
      pages.map((p) => p.items.length),
      "fetch one row more than the limit to know whether a next page exists; " +
        "a cursor after a full last page leads to an empty page",
    ).toEqual([10, 10, 10]);
    await seed(0);
    expect(await new PostFeed(pool, { secret: SECRET }).page({ limit: 10 })).toEqual({ items: [], nextCursor: null });
  });

  it("keeps posts that share a created_at together across a page boundary, to the microsecond", async () => {
    await seed(31);
    // Pages of 4 cut the threes of equal created_at: a cursor on created_at alone skips or
    // repeats the rest of a three, and one that keeps a Date drops the microseconds.
    const pages = await readAll(new PostFeed(pool, { secret: SECRET }), 4);
    const seen = ids(pages);
    expect(new Set(seen).size, "a post seen twice: the cursor compares created_at with <= or drops the id").toBe(
      seen.length,
    );
    expect(
      seen,
      "posts missing or out of order: the position is (created_at, id), compared as a row, " +
        "and created_at keeps its microseconds",
    ).toEqual(await feedOrder());
  });
});

describe("stays consistent while posts are inserted between pages", () => {
  it("skips and repeats nothing when new posts arrive at the top and at the boundary's very created_at", async () => {
    await seed(43);
    const original = await feedOrder();
    const feed = new PostFeed(pool, { secret: SECRET });
    const pages = await readAll(feed, 5, async (page) => {
      // A new post at the top shifts every OFFSET page by one; one with the boundary's
      // created_at (and so a larger id) sorts just before the boundary: both are behind us.
      await insertPost(null);
      const last = page.items[page.items.length - 1];
      if (last) await insertPost(await createdAtOf(last.id));
    });
    const seen = ids(pages);
    const repeated = seen.filter((id, i) => seen.indexOf(id) !== i);
    expect(repeated, "OFFSET counts rows, and inserts move them: a keyset cursor names a position instead").toEqual([]);
    expect(
      seen.filter((id) => original.includes(id)),
      "every post that existed when paging started is seen, in feed order",
    ).toEqual(original);
  });
});

describe("signs its cursors", () => {
  it("rejects a cursor made under another secret with InvalidCursorError, status 400", async () => {
    await seed(20);
    const ours = new PostFeed(pool, { secret: SECRET });
    const theirs = new PostFeed(pool, { secret: "another-secret-that-is-32-bytes-long" });
    const foreign = (await theirs.page({ limit: 5 })).nextCursor!;
    const attempt = ours.page({ limit: 5, cursor: foreign });
    expect(await failureOf(attempt), "an unsigned cursor lets any client choose where the query starts").toBeInstanceOf(
      InvalidCursorError,
    );
    await expect(attempt).rejects.toMatchObject({
      code: "ERR_INVALID_CURSOR",
      status: 400,
      name: "InvalidCursorError",
    });
  });

  it("rejects a tampered, truncated or made-up cursor with InvalidCursorError, never a database error", async () => {
    await seed(20);
    const feed = new PostFeed(pool, { secret: SECRET });
    const cursor = (await feed.page({ limit: 5 })).nextCursor!;
    // Moves a character half-way round the base64url alphabet, so the bits it stands for change
    // (A and B differ only in a padding bit when they end a base64 string).
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const flip = (s: string, at: number) => {
      const index = alphabet.indexOf(s[at]!);
      return s.slice(0, at) + (index < 0 ? "A" : alphabet[(index + 32) % 64]) + s.slice(at + 1);
    };
    const bad = [
      flip(cursor, 0),
      flip(cursor, Math.floor(cursor.length / 2)),
      flip(cursor, cursor.length - 1),
      cursor.slice(0, -3),
      cursor + "x",
      `${cursor}.x`,
      "",
      "not-a-cursor",
      Buffer.from(JSON.stringify({ createdAt: "2024-01-01T00:00:00Z", id: 1 })).toString("base64url"),
    ];
    for (const candidate of bad) {
      expect(
        await failureOf(feed.page({ limit: 5, cursor: candidate })),
        `cursor ${JSON.stringify(candidate)}`,
      ).toBeInstanceOf(InvalidCursorError);
    }
    expect((await feed.page({ limit: 5, cursor })).items, "the untouched cursor still works").toHaveLength(5);
  });

  it("refuses a secret shorter than 32 bytes and a limit outside 1..100 with RangeError", async () => {
    expect(() => new PostFeed(pool, { secret: "too-short" }), "a short HMAC key can be guessed").toThrow(RangeError);
    expect(() => new PostFeed(pool, { secret: new Uint8Array(32) })).not.toThrow();
    const feed = new PostFeed(pool, { secret: SECRET });
    for (const limit of [0, 101, 2.5, Number.NaN]) {
      expect(
        await failureOf(feed.page({ limit })),
        `limit ${limit}: a client must not choose how much work one request costs`,
      ).toBeInstanceOf(RangeError);
    }
    await expect(feed.page({ limit: 100 })).resolves.toEqual({ items: [], nextCursor: null });
    await expect(feed.page({ limit: 1 })).resolves.toEqual({ items: [], nextCursor: null });
  });
});
