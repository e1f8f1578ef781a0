// These tests use the real machine: the servers on the default ports, the redis-server and
// initdb binaries, PGlite. Each one is skipped where its prerequisite is missing, checked
// with plain node:net or PATH, independently of the code under test.

import { closedPort } from "#fixtures/net";

import pg from "pg";
import { describe, expect, it } from "vitest";
import { resolveServices, serviceEnv, type ProbeResult } from "../../src/services";

import { containerRuntime } from "../../src/services/containers";
import { probePostgres, probeRedis } from "../../src/services/probe";
import { probeRabbitMQ } from "../../src/services/rabbitmq";
import { RUNTIME_CHECK_TIMEOUT_MS } from "../../src/services/resolve";
import { localPostgres, localRabbit, localRedis, stoppedAfterEach } from "./machine";

const toStop = stoppedAfterEach();

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
