import { afterAll, describe, expect, it } from "vitest";
import { usePostgres } from "#fixtures/postgres";
import { startEmbeddedPostgres } from "../../src/services/embedded";

// End to end: the course's own Postgres fixture, pointed at the embedded PGlite the way the
// runner does it (KATA_DATABASE_URL), must give a single-session kata a working schema. It
// uses the checker's own template cache (node_modules/.cache), as a real run would.
const server = await startEmbeddedPostgres();
process.env.KATA_DATABASE_URL = server.url;
// Registered before the fixture's hooks, so it runs after them (after-hooks run in reverse):
// the fixture drops its schema first, then the server goes.
afterAll(async () => {
  await server.stop();
  delete process.env.KATA_DATABASE_URL;
});

const db = usePostgres();

describe("the course Postgres fixture on the embedded PGlite", () => {
  it("creates the file's schema and gives pooled queries that search_path", async () => {
    expect(db.url).toBe(server.url);
    await db.query("CREATE TABLE accounts (id serial PRIMARY KEY, balance int NOT NULL CHECK (balance >= 0))");
    await db.query("INSERT INTO accounts (balance) VALUES ($1), ($2)", [100, 50]);
    const where = await db.query<{ table_schema: string }>(
      "SELECT table_schema FROM information_schema.tables WHERE table_name = 'accounts'",
    );
    expect(where.rows).toEqual([{ table_schema: db.schema }]);
  });

  it("runs a transaction on a pooled client, and a violated constraint rolls it back", async () => {
    const pool = db.pool();
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      await client.query("UPDATE accounts SET balance = balance + 30 WHERE id = 2");
      await expect(client.query("UPDATE accounts SET balance = balance - 130 WHERE id = 1")).rejects.toMatchObject({
        code: "23514",
      });
      await client.query("ROLLBACK");
    } finally {
      client.release();
    }
    const balances = await db.query<{ balance: number }>("SELECT balance FROM accounts ORDER BY id");
    expect(balances.rows.map((r) => r.balance)).toEqual([100, 50]);
  });

  it("answers EXPLAIN with a plan that uses the primary key", async () => {
    const plan = await db.query<{ "QUERY PLAN": string }>("EXPLAIN SELECT balance FROM accounts WHERE id = 1");
    expect(plan.rows.map((r) => r["QUERY PLAN"]).join("\n")).toMatch(
      /Index Scan using accounts_pkey|Seq Scan on accounts/,
    );
  });
});
