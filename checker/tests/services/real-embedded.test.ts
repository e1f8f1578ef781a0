// These tests use the real machine: the servers on the default ports, the redis-server and
// initdb binaries, PGlite. Each one is skipped where its prerequisite is missing, checked
// with plain node:net or PATH, independently of the code under test.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveServices } from "../../src/services";

import { startEmbeddedPostgres } from "../../src/services/embedded";
import { probePostgres } from "../../src/services/probe";
import { listening, portOf, stoppedAfterEach, withoutDefaultPort } from "./machine";

const toStop = stoppedAfterEach();

describe("the embedded PGlite path", () => {
  let templateDir: string;
  let templateFile: string;
  beforeAll(async () => {
    templateDir = await mkdtemp(path.join(os.tmpdir(), "kata-pglite-template-test-"));
    templateFile = path.join(templateDir, "datadir.tar.gz");
    // A truncated template from an interrupted run: it must be replaced, not trusted.
    await writeFile(templateFile, "not a tarball");
  });
  afterAll(async () => {
    await rm(templateDir, { recursive: true, force: true });
  });

  it("starts PGlite on a loopback port, serves the course fixture's sequence and EXPLAIN, and stop() frees the port", async () => {
    let fromTemplate: boolean | undefined;
    const started = performance.now();
    const resolution = await resolveServices(
      { redis: false, postgres: true, rabbitmq: false, postgresSingleSessionOk: true },
      {
        env: { PATH: "" },
        deps: {
          // Nothing on 5432, no Postgres installed, no runtime: PGlite's turn.
          probePostgres: withoutDefaultPort(5432, probePostgres),
          findBinary: async () => undefined,
          postgresBinDirs: async () => [],
          containerRuntime: async () => ({ available: false, reason: "none (test)" }),
          startEmbeddedPostgres: async () => {
            const server = await startEmbeddedPostgres({ templateFile });
            fromTemplate = server.fromTemplate;
            return server;
          },
        },
      },
    );
    toStop.push(resolution);
    const startMs = performance.now() - started;
    const [postgres] = resolution.resolved;
    expect(postgres).toMatchObject({ source: "embedded", concurrentSessions: false });
    expect(postgres?.describe).toMatch(/^postgres: embedded PGlite on 127\.0\.0\.1:\d+ \(single session only\)$/);
    const url = postgres?.url ?? "";
    expect(url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);

    // The course fixture's sequence: an admin client creates the file's schema and ends,
    // then a pool whose sessions SET search_path on connect.
    const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
    await admin.connect();
    await admin.query('CREATE SCHEMA "kata_embedded"');
    await admin.end();

    const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 3_000 });
    pool.on("connect", (client) => {
      client.query('SET search_path TO "kata_embedded"').catch(() => {});
    });
    try {
      await pool.query("CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)");
      await pool.query("INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 200) g");
      expect((await pool.query("SHOW search_path")).rows[0]).toEqual({ search_path: "kata_embedded" });

      const plan = await pool.query<{ "QUERY PLAN": string }>("EXPLAIN SELECT name FROM items WHERE id = $1", [42]);
      expect(plan.rows.map((r) => r["QUERY PLAN"]).join("\n")).toMatch(/Index Scan using items_pkey/);
      const analyzed = await pool.query("EXPLAIN (ANALYZE, FORMAT JSON) SELECT count(*) FROM items");
      expect(JSON.stringify(analyzed.rows[0])).toContain("Actual Rows");

      // A transaction on one pooled client, rolled back.
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        await client.query("DELETE FROM items");
        await client.query("ROLLBACK");
      } finally {
        client.release();
      }
      // Queries from several pooled connections at once are queued, not refused.
      const counts = await Promise.all(
        Array.from({ length: 5 }, (_, i) => pool.query("SELECT count(*)::int AS n, $1::int AS i FROM items", [i])),
      );
      expect(counts.map((r) => r.rows[0])).toEqual([0, 1, 2, 3, 4].map((i) => ({ n: 200, i })));
    } finally {
      await pool.end();
    }

    // The fixture's cleanup: a new admin connection after the pool ended.
    const cleaner = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
    await cleaner.connect();
    await cleaner.query('DROP SCHEMA "kata_embedded" CASCADE');
    await cleaner.end();

    // Why it is "single session only": two connections are one backend, one session.
    const a = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
    const b = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
    await Promise.all([a.connect(), b.connect()]);
    try {
      await a.query("SET search_path TO pg_catalog");
      expect((await b.query("SHOW search_path")).rows[0], "a SET on one connection shows on the other").toEqual({
        search_path: "pg_catalog",
      });
      const [pidA, pidB] = await Promise.all([
        a.query("SELECT pg_backend_pid() AS pid"),
        b.query("SELECT pg_backend_pid() AS pid"),
      ]);
      expect(pidA.rows[0]).toEqual(pidB.rows[0]);
    } finally {
      await Promise.all([a.end(), b.end()]);
    }

    const port = portOf(url);
    await resolution.stopAll();
    expect(await listening(port), "the port is free after stop()").toBe(false);
    expect(fromTemplate, "the broken template was not used").toBe(false);
    // Logged, not asserted: the start time depends on the machine (WASM compile + initdb).
    console.info(`embedded PGlite resolved in ${Math.round(startMs)} ms (fresh initdb)`);
    // A fresh initdb in WASM took 2.5 s on an idle 2-core box and 30 s on a saturated one.
  }, 120_000);

  it("starts the next time from the data dir saved by the first, clean of what that run did", async () => {
    const started = performance.now();
    const server = await startEmbeddedPostgres({ templateFile });
    const startMs = performance.now() - started;
    try {
      expect(server.fromTemplate).toBe(true);
      const client = new pg.Client({ connectionString: server.url, connectionTimeoutMillis: 3_000 });
      await client.connect();
      try {
        const schemas = await client.query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'kata_%'");
        expect(schemas.rows, "the template is dumped before any client connects").toEqual([]);
        expect((await client.query("SELECT current_user AS u")).rows).toEqual([{ u: "postgres" }]);
      } finally {
        await client.end();
      }
      // Settings in the startup packet are applied, as a real server does (the fixture relies on it)...
      const withOptions = new pg.Client({
        connectionString: server.url,
        options: "-c search_path=pg_catalog -c statement_timeout=1234",
      });
      await withOptions.connect();
      try {
        expect(
          (
            await withOptions.query(
              "SELECT current_setting('search_path') AS p, current_setting('statement_timeout') AS t",
            )
          ).rows,
        ).toEqual([{ p: "pg_catalog", t: "1234ms" }]);
      } finally {
        await withOptions.end();
      }
      // ...and a bad one is refused at connect, as a real server does.
      const bad = new pg.Client({
        connectionString: server.url,
        options: "-c no_such_setting=1",
        connectionTimeoutMillis: 3_000,
      });
      bad.on("error", () => {});
      await expect(bad.connect()).rejects.toThrow(/no_such_setting/);
      await bad.end().catch(() => {});
    } finally {
      await server.stop();
    }
    expect(await listening(server.port)).toBe(false);
    console.info(`embedded PGlite started in ${Math.round(startMs)} ms (from the saved data dir)`);
  }, 60_000);
});
