import type pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import { explain, explainIfPossible, type QueryPlan } from "#fixtures/pg-plan";
import { usePostgres } from "#fixtures/postgres";
import { PostFeed } from "../src/keyset-pagination";
import { createPosts } from "../src/posts-schema";
import { deterministicPlans, recordingPool, type RecordingPool } from "./support/sessions";

const postgres = usePostgres();
const ROWS = 30_000;
const PAGE_SIZE = 20;
const DEPTHS = [1, 100, 1000] as const;
let plain: pg.Pool;
let recording: RecordingPool;

beforeAll(async () => {
  plain = postgres.pool({ ...deterministicPlans(postgres), max: 2 });
  recording = recordingPool(postgres, { ...deterministicPlans(postgres), max: 2 });
  await createPosts(plain, ROWS);
}, 30_000);

/** The plans (EXPLAIN ANALYZE, BUFFERS) of the statements that read posts to fetch one page. */
async function plansOf(statements: readonly { text: string; values: readonly unknown[] }[]): Promise<QueryPlan[]> {
  const plans: QueryPlan[] = [];
  for (const statement of statements) {
    const plan = await explainIfPossible(plain, statement.text, statement.values, { analyze: true });
    if (plan && plan.scans("posts").length > 0) plans.push(plan);
  }
  return plans;
}

let walked: Promise<Map<number, QueryPlan[]>> | undefined;
/** Walks the feed to page 1000 with the kata's PostFeed, keeping the plans of pages 1, 100 and 1000. */
function keysetPlans(): Promise<Map<number, QueryPlan[]>> {
  walked ??= (async () => {
    const feed = new PostFeed(recording.pool, { secret: "a-test-secret-of-at-least-32-bytes!!" });
    const byDepth = new Map<number, QueryPlan[]>();
    let cursor: string | null = null;
    for (let n = 1; n <= DEPTHS[DEPTHS.length - 1]!; n++) {
      recording.take();
      const page = await feed.page({ limit: PAGE_SIZE, cursor });
      if (DEPTHS.includes(n as (typeof DEPTHS)[number])) byDepth.set(n, await plansOf(recording.take()));
      expect(page.items, `page ${n} of a ${ROWS}-post feed is full`).toHaveLength(PAGE_SIZE);
      cursor = page.nextCursor;
    }
    return byDepth;
  })();
  return walked;
}

const buffersOf = (plans: readonly QueryPlan[]) => plans.reduce((sum, plan) => sum + plan.buffers().total, 0);

describe("the page query walks the feed's index from the cursor", { timeout: 60_000 }, () => {
  it("reads posts_feed_idx in order at pages 1, 100 and 1000: no Seq Scan, no Sort", async () => {
    const plans = await keysetPlans();
    for (const depth of DEPTHS) {
      const atDepth = plans.get(depth)!;
      expect(atDepth, `page ${depth}: no statement that reads posts was sent`).not.toHaveLength(0);
      for (const plan of atDepth) {
        const picture = `page ${depth}: ${plan.describe()}`;
        expect(
          plan.hasSeqScan("posts"),
          `${picture}: a Seq Scan reads the whole feed for every page (a count(*) does too)`,
        ).toBe(false);
        expect(
          plan.has("Sort") || plan.has("Incremental Sort"),
          `${picture}: ORDER BY created_at DESC, id DESC is the index's own order; ` +
            "sorting means the index was not walked",
        ).toBe(false);
        expect(plan.indexesUsed("posts"), picture).toContain("posts_feed_idx");
      }
    }
  });
});

describe("OFFSET pays for every row it skips; a keyset cursor pays for one page", { timeout: 60_000 }, () => {
  it("OFFSET's buffers grow with the page number while the keyset page's stay flat", async () => {
    const keyset = new Map<number, number>();
    const offset = new Map<number, number>();
    const plans = await keysetPlans();
    for (const depth of DEPTHS) {
      keyset.set(depth, buffersOf(plans.get(depth)!));
      const plan = await explain(
        plain,
        "SELECT id, author, title, created_at FROM posts ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2",
        [PAGE_SIZE, (depth - 1) * PAGE_SIZE],
        { analyze: true },
      );
      offset.set(depth, plan.buffers().total);
    }
    const table = DEPTHS.map((d) => `page ${d}: keyset ${keyset.get(d)} pages, OFFSET ${offset.get(d)} pages`).join(
      "; ",
    );
    expect(offset.get(1000)!, `the OFFSET baseline: ${table}`).toBeGreaterThan(10 * offset.get(1)!);
    expect(
      keyset.get(1000)!,
      `${table}. The row-value condition (created_at, id) < (cursor) starts the index walk at the cursor, ` +
        "so page 1000 costs what page 1 costs; an OR of conditions, or a filter, reads everything before " +
        "the cursor again.",
    ).toBeLessThanOrEqual(2 * keyset.get(1)! + 4);
  });
});
