import type pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import { explain, type QueryPlan } from "#fixtures/pg-plan";
import { usePostgres } from "#fixtures/postgres";
import { INDEX_MIGRATION } from "../src/index-migration";
import { createOrders, SLOW_QUERIES, type SlowQueryName } from "../src/orders-schema";
import { deterministicPlans } from "./support/sessions";

const postgres = usePostgres();
let pool: pg.Pool;
const before = new Map<SlowQueryName, unknown[]>();
const plans = new Map<SlowQueryName, QueryPlan>();
const names = Object.keys(SLOW_QUERIES) as SlowQueryName[];

interface IndexInfo {
  name: string;
  unique: boolean;
  method: string;
  predicate: string | null;
  keys: string[];
  included: string[];
}

/** The table's indexes as the catalog describes them: key columns (or expressions), INCLUDE columns, predicate. */
async function indexesOf(table: string): Promise<IndexInfo[]> {
  const { rows } = await pool.query<IndexInfo>(
    `SELECT c.relname AS name, i.indisunique AS unique, am.amname AS method,
            pg_get_expr(i.indpred, i.indrelid) AS predicate,
            ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, i.indnkeyatts) AS k) AS keys,
            ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true)
                    FROM generate_series(i.indnkeyatts + 1, i.indnatts) AS k) AS included
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
      WHERE i.indrelid = $1::regclass
      ORDER BY c.relname`,
    [table],
  );
  return rows;
}

/**
 * VACUUM sets the visibility map, without which no Index Only Scan skips the heap. It can only
 * mark a page all-visible once no transaction on the server could still need an older version
 * of its rows, so on a busy server it may take a second pass.
 */
async function vacuumUntilAllVisible(table: string, timeoutMs = 12_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await pool.query(`VACUUM (ANALYZE) ${table}`);
    const { rows } = await pool.query<{ pages: number; visible: number }>(
      "SELECT relpages AS pages, relallvisible AS visible FROM pg_class WHERE oid = $1::regclass",
      [table],
    );
    if (rows[0]!.visible >= rows[0]!.pages) return;
    if (Date.now() > deadline) {
      throw new Error(
        `VACUUM could not mark ${table} all-visible: a long-running transaction on this server holds back its horizon`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

beforeAll(async () => {
  pool = postgres.pool({ ...deterministicPlans(postgres), max: 2 });
  await createOrders(pool);
  for (const name of names) {
    const query = SLOW_QUERIES[name];
    before.set(name, (await pool.query(query.sql, [...query.params])).rows);
  }
  for (const statement of INDEX_MIGRATION) await pool.query(statement);
  await vacuumUntilAllVisible("orders");
  for (const name of names) {
    const query = SLOW_QUERIES[name];
    plans.set(name, await explain(pool, query.sql, query.params, { analyze: true }));
  }
}, 60_000);

/** The query's plan, checked to read `orders` through an index, and its rows, checked unchanged. */
async function indexed(name: SlowQueryName): Promise<QueryPlan> {
  const plan = plans.get(name)!;
  const query = SLOW_QUERIES[name];
  expect(
    plan.hasSeqScan("orders"),
    `${name} (${query.purpose}) still reads all of orders with a Seq Scan; its plan: ${plan.describe()}`,
  ).toBe(false);
  const { rows } = await pool.query(query.sql, [...query.params]);
  expect(rows, `an index changes how ${name} finds its rows, never which rows it returns`).toEqual(before.get(name));
  return plan;
}

/** `name (keys) INCLUDE (...) WHERE ...`, as a learner would write it. */
function described(index: IndexInfo): string {
  const include = index.included.length > 0 ? ` INCLUDE (${index.included.join(", ")})` : "";
  return `${index.name} (${index.keys.join(", ")})${include}${index.predicate ? ` WHERE ${index.predicate}` : ""}`;
}

async function partial(index: string): Promise<boolean> {
  const { rows } = await pool.query<{ partial: boolean }>(
    "SELECT indpred IS NOT NULL AS partial FROM pg_index WHERE indexrelid = $1::regclass",
    [index],
  );
  return rows[0]?.partial ?? false;
}

describe("each of the four queries is served by the right kind of index", () => {
  it("customerOrders (equality on customer_id, range on created_at) reads about a page per row", async () => {
    const plan = await indexed("customerOrders");
    const rows = plan.root["Actual Rows"] ?? 0;
    const { total } = plan.buffers();
    expect(rows).toBeGreaterThan(100);
    expect(
      total,
      `customerOrders returned ${rows} rows but touched ${total} pages (${plan.describe()}). ` +
        "With the equality column first and the range column second, the customer's quarter is one contiguous " +
        "slice of the index, and the query pays one heap page per row plus a few index pages. " +
        "(created_at, customer_id) walks a quarter of all orders in the index; " +
        "(customer_id) alone fetches all of the customer's 1 000 orders and filters them.",
    ).toBeLessThanOrEqual(rows + 30);
  });

  it("dailyRevenue is answered by an Index Only Scan, without visiting the table", async () => {
    const plan = await indexed("dailyRevenue");
    const indexOnly = plan.nodes.filter((n) => n["Node Type"] === "Index Only Scan");
    expect(
      indexOnly.length,
      `dailyRevenue reads created_at and total_cents only: an index on created_at that also carries total_cents ` +
        `(INCLUDE) answers it from the index alone. Its plan: ${plan.describe()}`,
    ).toBeGreaterThan(0);
    expect(
      indexOnly[0]!["Heap Fetches"],
      "after VACUUM every page is all-visible: an Index Only Scan fetches nothing from the heap",
    ).toBe(0);
  });

  it("oldestPending is served by a partial index that holds only the pending orders", async () => {
    const plan = await indexed("oldestPending");
    const used = plan.indexesUsed("orders");
    const partials = [];
    for (const index of used) if (await partial(index)) partials.push(index);
    expect(
      partials,
      "oldestPending filters on status = 'pending' (0.5 % of the rows): an index built " +
        "WHERE status = 'pending' holds only those, is ~200 times smaller than a full index " +
        "and is untouched by writes to other orders. " +
        `The plan used ${used.length > 0 ? used.join(", ") : "no index"}: ${plan.describe()}`,
    ).not.toHaveLength(0);
  });

  it("ordersByEmail, which compares lower(email), is served by an index on that expression", async () => {
    const plan = await indexed("ordersByEmail");
    expect(
      plan.indexesUsed("orders"),
      `an index on email cannot answer lower(email) = ...: index the expression itself. Its plan: ${plan.describe()}`,
    ).not.toHaveLength(0);
  });
});

describe("the migration creates only indexes that earn their write cost", () => {
  it("no index is redundant: none has key columns that lead another index with the same WHERE", async () => {
    const indexes = await indexesOf("orders");
    const created = indexes.filter((i) => !i.unique);
    expect(created, "the migration created no index").not.toHaveLength(0);
    for (const a of created) {
      for (const b of indexes) {
        if (a === b || a.method !== b.method || a.predicate !== b.predicate || a.keys.length > b.keys.length) continue;
        const prefix = a.keys.every((key, k) => b.keys[k] === key);
        const covered = a.included.every((column) => b.keys.includes(column) || b.included.includes(column));
        expect(
          prefix && covered,
          `${described(a)} is a leading prefix of ${described(b)}: ${b.name} serves every ` +
            `query ${a.name} can, yet ${a.name} is still written on every INSERT and on every UPDATE of its columns ` +
            `(and any indexed column rules out a HOT update), takes vacuum time and crowds the cache. Drop it.`,
        ).toBe(false);
      }
    }
  });

  it("every index it creates is used by one of the four queries", async () => {
    const created = (await indexesOf("orders")).filter((i) => !i.unique);
    expect(created, "the migration created no index").not.toHaveLength(0);
    const used = new Set([...plans.values()].flatMap((plan) => plan.indexesUsed("orders")));
    const unused = created.filter((i) => !used.has(i.name)).map(described);
    expect(unused, "an index no query uses serves nothing and still costs a write on every INSERT: drop it").toEqual(
      [],
    );
  });
});
