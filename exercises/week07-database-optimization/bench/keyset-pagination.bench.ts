// Keyset pagination against OFFSET on the same 30 000-post feed, at pages 1, 100 and 1000 of
// 20 posts. Time per page (ops/s) below; the pages each one reads (shared buffers, from
// EXPLAIN (ANALYZE, BUFFERS)) are printed before the run. Both read the same index in the same
// order: OFFSET walks and discards (page - 1) × 20 entries first, the keyset cursor starts at
// its position, so OFFSET's cost grows with the page number and keyset's does not.
import type pg from "pg";
import { beforeAll, bench, describe } from "vitest";
import { explain, explainIfPossible } from "#fixtures/pg-plan";
import { usePostgres } from "#fixtures/postgres";
import { PostFeed } from "../src/keyset-pagination";
import { createPosts } from "../src/posts-schema";
import { deterministicPlans, recordingPool } from "../tests/support/sessions";

const ROWS = 30_000;
const PAGE_SIZE = 20;
const PAGES = [1, 100, 1000] as const;
const OFFSET_SQL =
  "SELECT id, author, title, created_at FROM posts ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2";

const postgres = usePostgres();
let pool: pg.Pool;
let feed: PostFeed;
const cursors = new Map<number, string | null>();

beforeAll(async () => {
  pool = postgres.pool({ ...deterministicPlans(postgres), max: 2 });
  await createPosts(pool, ROWS);
  const recording = recordingPool(postgres, { ...deterministicPlans(postgres), max: 1 });
  const walker = new PostFeed(recording.pool, { secret: "a-bench-secret-of-at-least-32-bytes!" });
  feed = new PostFeed(pool, { secret: "a-bench-secret-of-at-least-32-bytes!" });
  const lines: string[] = [];
  let cursor: string | null = null;
  for (let page = 1; page <= PAGES[PAGES.length - 1]!; page++) {
    recording.take();
    if (PAGES.includes(page as (typeof PAGES)[number])) cursors.set(page, cursor);
    const next: { nextCursor: string | null } = await walker.page({ limit: PAGE_SIZE, cursor });
    if (PAGES.includes(page as (typeof PAGES)[number])) {
      let keyset = 0;
      for (const statement of recording.take()) {
        const plan = await explainIfPossible(pool, statement.text, statement.values, { analyze: true });
        if (plan && plan.scans("posts").length > 0) keyset += plan.buffers().total;
      }
      const offset = (await explain(pool, OFFSET_SQL, [PAGE_SIZE, (page - 1) * PAGE_SIZE], { analyze: true })).buffers()
        .total;
      lines.push(
        `page ${page}: keyset ${keyset} buffers, OFFSET ${offset} buffers ` +
          `(OFFSET / keyset = ${(offset / keyset).toFixed(1)})`,
      );
    }
    cursor = next.nextCursor;
  }
  console.log(`shared buffers per page (hit + read), ${ROWS} posts, ${PAGE_SIZE} per page:\n  ${lines.join("\n  ")}`);
}, 60_000);

for (const page of PAGES) {
  describe(`page ${page} of ${PAGE_SIZE} posts`, () => {
    bench("ours: keyset cursor", async () => {
      await feed.page({ limit: PAGE_SIZE, cursor: cursors.get(page) ?? null });
    });

    bench("yardstick OFFSET: LIMIT 20 OFFSET (page - 1) * 20", async () => {
      await pool.query(OFFSET_SQL, [PAGE_SIZE, (page - 1) * PAGE_SIZE]);
    });
  });
}
