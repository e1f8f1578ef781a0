// The last rungs of the ladder: containers, embedded PGlite, nothing at all; and what a run gets.
import { describe, expect, it } from "vitest";
import { resolveServices, serviceEnv, type ProbeResult, type ServiceNeeds } from "../../src/services";
import { LOCAL_PROBE_TIMEOUT_MS } from "../../src/services/resolve";
import { fakeMachine, fakeServer, NO_RUNTIME, OK, REFUSED } from "./fake-machine";

const REDIS_ONLY: ServiceNeeds = { redis: true, postgres: false, rabbitmq: false, postgresSingleSessionOk: false };
const POSTGRES_ONLY: ServiceNeeds = { redis: false, postgres: true, rabbitmq: false, postgresSingleSessionOk: false };
const POSTGRES_SINGLE: ServiceNeeds = { redis: false, postgres: true, rabbitmq: false, postgresSingleSessionOk: true };
const BOTH: ServiceNeeds = { redis: true, postgres: true, rabbitmq: false, postgresSingleSessionOk: false };

describe("rung 4: a container through testcontainers", () => {
  it("starts a container when a runtime answers, and checks the runtime once for both services", async () => {
    const redis = fakeServer("redis://localhost:32768", "localhost:32768");
    const postgres = fakeServer("postgres://postgres@localhost:32769/test", "localhost:32769");
    const machine = fakeMachine({
      probeRedis: async (url) => (url === redis.url ? OK : REFUSED),
      probePostgres: async (url) => (url === postgres.url ? OK : REFUSED),
      containerRuntime: async () => ({ available: true, description: "Docker 27.1 at localhost" }),
      startContainer: async (name) => (name === "redis" ? redis : postgres),
    });
    const lines: string[] = [];
    const result = await resolveServices(BOTH, { env: {}, deps: machine.deps, log: (line) => lines.push(line) });

    expect(machine.called("containerRuntime")).toHaveLength(1);
    expect(result.resolved.map((s) => [s.name, s.source, s.url])).toEqual([
      ["redis", "container", redis.url],
      ["postgres", "container", postgres.url],
    ]);
    expect(result.resolved[0]?.describe).toBe(
      "redis: container redis:7-alpine on localhost:32768 (started for this run)",
    );
    expect(
      lines.some((line) => line.includes("pulls the image")),
      "a slow start is announced before it happens",
    ).toBe(true);
    await result.stopAll();
    expect([redis.stops, postgres.stops]).toEqual([1, 1]);
  });

  it("skips containers at once when there is no runtime, naming why", async () => {
    const machine = fakeMachine({ containerRuntime: async () => NO_RUNTIME });
    const result = await resolveServices(REDIS_ONLY, { env: {}, deps: machine.deps });
    expect(machine.called("startContainer")).toEqual([]);
    expect(result.unavailable[0]?.message).toContain(
      "no container runtime answers (Could not find a working container runtime strategy)",
    );
  });

  it("stops a container that reported ready but does not answer, and reports it", async () => {
    const container = fakeServer("redis://localhost:32770", "localhost:32770");
    const machine = fakeMachine({
      containerRuntime: async () => ({ available: true, description: "Docker" }),
      startContainer: async () => container,
    });
    const result = await resolveServices(REDIS_ONLY, { env: {}, deps: machine.deps });
    expect(container.stops).toBe(1);
    expect(result.unavailable[0]?.message).toContain("does not answer");
  });
});

describe("rung 5: embedded PGlite", () => {
  it("starts PGlite when every selected Postgres kata is single-session, and marks it so", async () => {
    const embedded = fakeServer("postgres://postgres@127.0.0.1:54321/postgres", "127.0.0.1:54321");
    const machine = fakeMachine({ startEmbeddedPostgres: async () => embedded });
    const result = await resolveServices(POSTGRES_SINGLE, { env: {}, deps: machine.deps });

    expect(result.resolved).toMatchObject([{ source: "embedded", url: embedded.url, concurrentSessions: false }]);
    expect(result.resolved[0]?.describe).toBe("postgres: embedded PGlite on 127.0.0.1:54321 (single session only)");
    await result.stopAll();
    expect(embedded.stops).toBe(1);
  });

  it("does not use PGlite when a selected kata needs concurrent sessions", async () => {
    const machine = fakeMachine({ startEmbeddedPostgres: async () => fakeServer("postgres://x", "x") });
    const result = await resolveServices(POSTGRES_ONLY, { env: {}, deps: machine.deps });
    expect(machine.called("startEmbeddedPostgres")).toEqual([]);
    expect(result.unavailable[0]?.message).toContain("the selected Postgres katas need concurrent sessions");
  });

  it("prefers a real server to PGlite even for single-session katas", async () => {
    const machine = fakeMachine({ probePostgres: async () => OK });
    const result = await resolveServices(POSTGRES_SINGLE, { env: {}, deps: machine.deps });
    expect(result.resolved).toMatchObject([{ source: "local", concurrentSessions: true }]);
    expect(machine.called("startEmbeddedPostgres")).toEqual([]);
  });
});

describe("rung 6: nothing available", () => {
  it("names docker compose, a local install and the URL variable, after what was tried", async () => {
    const result = await resolveServices(BOTH, { env: {}, deps: fakeMachine().deps });
    expect(result.resolved).toEqual([]);
    const [redis, postgres] = result.unavailable;
    expect(redis?.name).toBe("redis");
    expect(redis?.message).toContain("docker compose up -d redis");
    expect(redis?.message).toMatch(/install Redis/);
    expect(redis?.message).toContain("REDIS_URL=");
    expect(redis?.message).toContain("127.0.0.1:6379: connection refused");
    expect(postgres?.name).toBe("postgres");
    expect(postgres?.message).toContain("docker compose up -d postgres");
    expect(postgres?.message).toMatch(/install Postgres/);
    expect(postgres?.message).toContain("DATABASE_URL=");
    expect(postgres?.message).toContain("127.0.0.1:5432: connection refused");
  });

  it("resolves a bare machine quickly even when every probe uses its whole time bound", async () => {
    // The worst bare machine: the default ports are black holes, so each probe waits out its bound.
    const slowProbe = async (_url: string, timeoutMs: number): Promise<ProbeResult> => {
      await new Promise((resolve) => setTimeout(resolve, timeoutMs));
      return { ok: false, kind: "timeout", reason: `no answer within ${timeoutMs} ms` };
    };
    const machine = fakeMachine({ probeRedis: slowProbe, probePostgres: slowProbe });
    const started = performance.now();
    const result = await resolveServices(BOTH, { env: {}, deps: machine.deps });
    const elapsed = performance.now() - started;

    expect(result.unavailable).toHaveLength(2);
    expect(machine.called("probePostgres"), "a silent port is not asked again for every user").toHaveLength(1);
    expect(elapsed, "both ladders run side by side, each bounded").toBeLessThan(LOCAL_PROBE_TIMEOUT_MS * 2);
  });

  it("keeps resolving the other service when one ladder throws", async () => {
    const machine = fakeMachine({
      probeRedis: async () => OK,
      findBinary: async () => {
        throw new Error("EACCES on /usr/local/bin");
      },
    });
    const result = await resolveServices(BOTH, { env: {}, deps: machine.deps });
    expect(result.resolved.map((s) => s.name)).toEqual(["redis"]);
    expect(result.unavailable[0]?.message).toContain("EACCES on /usr/local/bin");
  });
});

describe("what the run gets", () => {
  it("touches only the services the selected katas need", async () => {
    const machine = fakeMachine({ probeRedis: async () => OK });
    const result = await resolveServices(REDIS_ONLY, { env: {}, deps: machine.deps });
    expect(machine.called("probePostgres")).toEqual([]);
    expect(result.resolved.map((s) => s.name)).toEqual(["redis"]);
  });

  it("hands the test processes KATA_REDIS_URL and KATA_DATABASE_URL for the services it has", async () => {
    const both = await resolveServices(BOTH, {
      env: {},
      deps: fakeMachine({ probeRedis: async () => OK, probePostgres: async () => OK }).deps,
    });
    expect(serviceEnv(both)).toEqual({
      KATA_REDIS_URL: "redis://127.0.0.1:6379",
      KATA_DATABASE_URL: "postgres://postgres@127.0.0.1:5432/test",
    });
    const redisOnly = await resolveServices(BOTH, { env: {}, deps: fakeMachine({ probeRedis: async () => OK }).deps });
    expect(serviceEnv(redisOnly)).toEqual({ KATA_REDIS_URL: "redis://127.0.0.1:6379" });
  });

  it("stopAll settles even when a stop fails", async () => {
    const machine = fakeMachine({
      startEmbeddedPostgres: async () => ({
        url: "postgres://postgres@127.0.0.1:1/postgres",
        address: "127.0.0.1:1",
        stop: async () => {
          throw new Error("already gone");
        },
      }),
    });
    const result = await resolveServices(POSTGRES_SINGLE, { env: {}, deps: machine.deps });
    await expect(result.stopAll()).resolves.toBeUndefined();
  });
});
