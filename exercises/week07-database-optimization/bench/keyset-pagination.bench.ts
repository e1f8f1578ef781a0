// Keyset pagination against OFFSET on the same 30 000-post feed, at pages 1, 100 and 1000 of
// 20 posts. Two rows per page: the pages each one reads (shared buffers, hit + read, from
// EXPLAIN (ANALYZE, BUFFERS); fewer is better) and the time per page (ops/s). Both read the
// same index in the same order: OFFSET walks and discards (page - 1) × 20 entries first, the
// keyset cursor starts at its position, so OFFSET's cost grows with the page number and
// keyset's does not.
import type pg from "pg";
import { beforeAll } from "vitest";
import { benchCase, benchMetric } from "#fixtures/bench";
import { explain, explainIfPossible } from "#fixtures/pg-plan";
import { usePostgres } from "#fixtures/postgres";
import { PostFeed } from "../src/keyset-pagination";
import { createPosts } from "../src/posts-schema";
import { deterministicPlans, type LoggedQuery, recordingPool } from "../tests/support/sessions";

const ROWS = 30_000;
const PAGE_SIZE = 20;
const PAGES = [1, 100, 1000] as const;
const OFFSET_SQL =
  "SELECT id, author, title, created_at FROM posts ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2";
const SECRET = "a-bench-secret-of-at-least-32-bytes!";

const postgres = usePostgres();
let pool: pg.Pool;
let feed: PostFeed;
/** Per page: the cursor that asks for it, and the statements the feed sent to answer it. */
const pages = new Map<number, { cursor: string | null; statements: LoggedQuery[] }>();

beforeAll(async () => {
  pool = postgres.pool({ ...deterministicPlans(postgres), max: 2 });
  await createPosts(pool, ROWS);
  const recording = recordingPool(postgres, { ...deterministicPlans(postgres), max: 1 });
  const walker = new PostFeed(recording.pool, { secret: SECRET });
  feed = new PostFeed(pool, { secret: SECRET });
  let cursor: string | null = null;
  for (let page = 1; page <= PAGES[PAGES.length - 1]!; page++) {
    recording.take();
    const next: { nextCursor: string | null } = await walker.page({ limit: PAGE_SIZE, cursor });
    if (PAGES.includes(page as (typeof PAGES)[number])) pages.set(page, { cursor, statements: recording.take() });
    cursor = next.nextCursor;
  }
}, 60_000);

/** Shared buffers of the statements that read posts for one keyset page (whatever SQL the feed sends). */
async function keysetBuffers(page: number): Promise<number> {
  let total = 0;
  for (const statement of pages.get(page)!.statements) {
    const plan = await explainIfPossible(pool, statement.text, statement.values, { analyze: true });
    if (plan && plan.scans("posts").length > 0) total += plan.buffers().total;
  }
  return total;
}

async function offsetBuffers(page: number): Promise<number> {
  return (await explain(pool, OFFSET_SQL, [PAGE_SIZE, (page - 1) * PAGE_SIZE], { analyze: true })).buffers().total;
}

const OFFSET = "OFFSET: LIMIT 20 OFFSET (page - 1) * 20";

for (const page of PAGES) {
  benchMetric(`keyset vs OFFSET, page ${page}: shared buffers`, {
    ours: () => keysetBuffers(page),
    yardstick: { library: OFFSET, run: () => offsetBuffers(page) },
    unit: "buffers",
    better: "lower",
  });

  benchCase(`keyset vs OFFSET, page ${page}: time per page`, {
    ours: () => feed.page({ limit: PAGE_SIZE, cursor: pages.get(page)!.cursor }),
    yardstick: { library: OFFSET, run: () => pool.query(OFFSET_SQL, [PAGE_SIZE, (page - 1) * PAGE_SIZE]) },
  });
}
