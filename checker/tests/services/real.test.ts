import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { closedPort } from "#fixtures/net";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { resolveServices, serviceEnv, type ProbeResult, type ServiceResolution } from "../../src/services";
import { findBinary, postgresBinDirs } from "../../src/services/binaries";
import { containerRuntime } from "../../src/services/containers";
import { startEmbeddedPostgres } from "../../src/services/embedded";
import { locatePostgresTools } from "../../src/services/postgres";
import { probePostgres, probeRedis } from "../../src/services/probe";
import { probeRabbitMQ } from "../../src/services/rabbitmq";
import { startPrivateRedis } from "../../src/services/redis";
import { RUNTIME_CHECK_TIMEOUT_MS } from "../../src/services/resolve";

// These tests use the real machine: the servers on the default ports, the redis-server and
// initdb binaries, PGlite. Each one is skipped where its prerequisite is missing, checked
// with plain node:net or PATH, independently of the code under test.

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function listening(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const REFUSED: ProbeResult = {
  ok: false,
  kind: "refused",
  reason: "connection refused, nothing listens there (forced by the test)",
};
/** The real probe everywhere except the default port, which the test pretends is empty. */
const withoutDefaultPort =
  (defaultPort: number, real: (url: string, timeoutMs: number) => Promise<ProbeResult>) =>
  (url: string, timeoutMs: number): Promise<ProbeResult> =>
    portOf(url) === defaultPort ? Promise.resolve(REFUSED) : real(url, timeoutMs);

const localRedis = await listening(6379);
const localPostgres = await listening(5432);
const localRabbit = await listening(5672);
const redisServer = await findBinary("redis-server");
const isRoot = process.getuid?.() === 0;
const postgresTools = await locatePostgresTools({
  findBinary: (name, dirs) => findBinary(name, dirs),
  postgresBinDirs: () => postgresBinDirs(),
});

const toStop: ServiceResolution[] = [];
afterEach(async () => {
  await Promise.all(toStop.splice(0).map((resolution) => resolution.stopAll()));
});

describe("the local path", () => {
  it.runIf(localRedis && localPostgres)(
    "finds Redis and Postgres already listening on the default ports",
    async () => {
      const lines: string[] = [];
      const resolution = await resolveServices(
        { redis: true, postgres: true, rabbitmq: false, postgresSingleSessionOk: false },
        { env: { PATH: process.env.PATH }, log: (line) => lines.push(line) },
      );
      toStop.push(resolution);

      expect(resolution.unavailable).toEqual([]);
      expect(resolution.resolved.map((s) => [s.name, s.source])).toEqual([
        ["redis", "local"],
        ["postgres", "local"],
      ]);
      const env = serviceEnv(resolution);
      expect(env.KATA_REDIS_URL).toBe("redis://127.0.0.1:6379");
      expect(env.KATA_DATABASE_URL).toMatch(/^postgres:\/\/\w+@127\.0\.0\.1:5432\/(test|postgres)$/);
      // The two ladders run side by side, so their lines come in the order they finish.
      expect([...lines].sort()).toEqual(resolution.resolved.map((s) => s.describe).sort());

      const client = new pg.Client({ connectionString: env.KATA_DATABASE_URL, connectionTimeoutMillis: 3_000 });
      await client.connect();
      try {
        expect((await client.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
      } finally {
        await client.end();
      }
    },
    20_000,
  );
});

describe("the private redis-server path", () => {
  it.runIf(redisServer !== undefined)(
    "starts redis-server on another port, which answers, and stop() kills it and removes its dir",
    async () => {
      const server = await startPrivateRedis(redisServer ?? "redis-server");
      const port = portOf(server.url);
      let stopped = false;
      try {
        expect(port).not.toBe(6379);
        expect(existsSync(server.dir)).toBe(true);
        const client = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        try {
          await client.connect();
          await client.set("k", "v");
          expect(await client.get("k")).toBe("v");
        } finally {
          client.disconnect();
        }
        await server.stop();
        stopped = true;
        expect(await listening(port), "the port is free after stop()").toBe(false);
        expect(processAlive(server.pid ?? -1), "the process is gone").toBe(false);
        expect(existsSync(server.dir), "its temp dir is removed").toBe(false);
      } finally {
        if (!stopped) await server.stop();
      }
    },
    20_000,
  );

  it("reports a server that exits at once or cannot be started, and leaves no temp dir behind", async () => {
    const before = new Set((await readdir(os.tmpdir())).filter((name) => name.startsWith("kata-redis-")));
    await expect(startPrivateRedis("/bin/false")).rejects.toThrow(/\/bin\/false exited with code 1/);
    await expect(startPrivateRedis(path.join(os.tmpdir(), "no-such-redis-server"))).rejects.toThrow(
      /could not start .*ENOENT/,
    );
    const after = (await readdir(os.tmpdir())).filter((name) => name.startsWith("kata-redis-") && !before.has(name));
    expect(after).toEqual([]);
  }, 20_000);

  it.runIf(redisServer !== undefined)(
    "is stopped and its dir removed when the checker that started it is killed with SIGKILL",
    async () => {
      const script = fileURLToPath(new URL("./scripts/start-private-redis.ts", import.meta.url));
      const checker = spawn(process.execPath, ["--import", "tsx", script, redisServer ?? "redis-server"], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      const [line] = (await once(checker.stdout!.setEncoding("utf8"), "data")) as [string];
      const started = JSON.parse(line) as { pid: number; dir: string };
      expect(processAlive(started.pid)).toBe(true);
      checker.kill("SIGKILL");
      await once(checker, "exit");
      // The watcher polls once a second and gives the server two seconds to stop.
      const deadline = Date.now() + 10_000;
      while (processAlive(started.pid) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 100));
      expect(processAlive(started.pid), "a private redis-server must not outlive the checker that started it").toBe(
        false,
      );
      while (existsSync(started.dir) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(existsSync(started.dir), "its temp dir is removed too").toBe(false);
    },
  );

  it.runIf(redisServer !== undefined)(
    "is what the resolver picks when nothing listens on 6379",
    async () => {
      const lines: string[] = [];
      const resolution = await resolveServices(
        { redis: true, postgres: false, rabbitmq: false, postgresSingleSessionOk: false },
        {
          env: { PATH: process.env.PATH },
          deps: { probeRedis: withoutDefaultPort(6379, probeRedis) },
          log: (line) => lines.push(line),
        },
      );
      toStop.push(resolution);

      const [redis] = resolution.resolved;
      expect(redis).toMatchObject({ name: "redis", source: "private" });
      expect(redis?.describe).toMatch(/^redis: private redis-server on 127\.0\.0\.1:\d+ \(started for this run\)$/);
      expect(lines[0]).toMatch(/starting a private .*redis-server/);
      const port = portOf(redis?.url ?? "");
      expect((await probeRedis(redis?.url ?? "", 1_000)).ok).toBe(true);
      await resolution.stopAll();
      expect(await listening(port)).toBe(false);
    },
    20_000,
  );
});

describe("the private Postgres path", () => {
  it.runIf(!isRoot && postgresTools.found)(
    "starts initdb + postgres on a free port as a normal user, and stop() ends it",
    async () => {
      const resolution = await resolveServices(
        { redis: false, postgres: true, rabbitmq: false, postgresSingleSessionOk: false },
        { env: { PATH: process.env.PATH }, deps: { probePostgres: withoutDefaultPort(5432, probePostgres) } },
      );
      toStop.push(resolution);
      const [postgres] = resolution.resolved;
      expect(postgres).toMatchObject({ source: "private", concurrentSessions: true });
      const port = portOf(postgres?.url ?? "");
      expect((await probePostgres(postgres?.url ?? "", 2_000)).ok).toBe(true);
      await resolution.stopAll();
      expect(await listening(port)).toBe(false);
    },
    60_000,
  );

  it.runIf(isRoot && postgresTools.found)(
    "is skipped as root, and the message says why",
    async () => {
      const resolution = await resolveServices(
        { redis: false, postgres: true, rabbitmq: false, postgresSingleSessionOk: false },
        {
          env: { PATH: process.env.PATH },
          deps: {
            probePostgres: withoutDefaultPort(5432, probePostgres),
            containerRuntime: async () => ({ available: false, reason: "none (test)" }),
          },
        },
      );
      toStop.push(resolution);
      expect(resolution.resolved).toEqual([]);
      expect(resolution.unavailable[0]?.message).toMatch(/runs as root.*refuses to run as root/);
    },
    20_000,
  );
});

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

describe("a bare machine", () => {
  it("gets a clear answer for both services within 3 s, with the real probes and the real runtime check", async () => {
    // Nothing listens: the default ports are redirected to a port that was just released.
    const closed = await closedPort();
    const redirect =
      (defaultPort: number, real: (url: string, timeoutMs: number) => Promise<ProbeResult>) =>
      (url: string, timeoutMs: number): Promise<ProbeResult> => {
        const parsed = new URL(url);
        if (Number(parsed.port) === defaultPort) parsed.port = String(closed);
        return real(parsed.toString(), timeoutMs);
      };
    const started = performance.now();
    const resolution = await resolveServices(
      { redis: true, postgres: true, rabbitmq: false, postgresSingleSessionOk: false },
      {
        env: { PATH: "" },
        deps: {
          probeRedis: redirect(6379, probeRedis),
          probePostgres: redirect(5432, probePostgres),
          postgresBinDirs: async () => [],
        },
      },
    );
    toStop.push(resolution);
    const elapsed = performance.now() - started;

    expect(resolution.resolved).toEqual([]);
    expect(resolution.unavailable.map((u) => u.name)).toEqual(["redis", "postgres"]);
    expect(elapsed, "a bare machine is told within seconds, never a hang").toBeLessThan(3_000);
    console.info(`bare machine resolved in ${Math.round(elapsed)} ms`);
  }, 10_000);
});

describe("the container runtime check", () => {
  it("answers within its bound, and says why when there is no runtime", async () => {
    const started = performance.now();
    const runtime = await containerRuntime(RUNTIME_CHECK_TIMEOUT_MS);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(RUNTIME_CHECK_TIMEOUT_MS + 1_000);
    if (!runtime.available) expect(runtime.reason.length).toBeGreaterThan(0);
    console.info(
      `container runtime check: ${runtime.available ? runtime.description : runtime.reason} (${Math.round(elapsed)} ms)`,
    );
  }, 10_000);
});

describe("the RabbitMQ probe against a real broker", () => {
  it.runIf(localRabbit)("answers ok for guest/guest on 127.0.0.1:5672 and resolves it as local", async () => {
    expect(await probeRabbitMQ("amqp://guest:guest@127.0.0.1:5672", 3_000)).toEqual({ ok: true });
    const resolution = await resolveServices(
      { redis: false, postgres: false, rabbitmq: true, postgresSingleSessionOk: false },
      { env: {} },
    );
    toStop.push(resolution);
    expect(resolution.resolved).toMatchObject([{ name: "rabbitmq", source: "local" }]);
    expect(serviceEnv(resolution).KATA_AMQP_URL).toBe("amqp://guest:guest@127.0.0.1:5672");
  });

  it.runIf(localRabbit)("classifies a wrong password and a missing vhost as auth problems", async () => {
    expect(await probeRabbitMQ("amqp://guest:wrong@127.0.0.1:5672", 3_000)).toMatchObject({ ok: false, kind: "auth" });
    expect(await probeRabbitMQ("amqp://guest:guest@127.0.0.1:5672/no-such-vhost", 3_000)).toMatchObject({
      ok: false,
      kind: "auth",
    });
  });

  it("reports a closed port as refused within the bound", async () => {
    const port = await closedPort();
    const started = performance.now();
    expect(await probeRabbitMQ(`amqp://guest:guest@127.0.0.1:${port}`, 2_000)).toMatchObject({
      ok: false,
      kind: "refused",
    });
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
