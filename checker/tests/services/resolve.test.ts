import { describe, expect, it } from "vitest";
import { resolveServices, type ProbeResult, type ServiceNeeds } from "../../src/services";
import { fakeMachine, fakeServer, OK, REFUSED } from "./fake-machine";

const REDIS_ONLY: ServiceNeeds = { redis: true, postgres: false, rabbitmq: false, postgresSingleSessionOk: false };
const POSTGRES_ONLY: ServiceNeeds = { redis: false, postgres: true, rabbitmq: false, postgresSingleSessionOk: false };
const POSTGRES_SINGLE: ServiceNeeds = { redis: false, postgres: true, rabbitmq: false, postgresSingleSessionOk: true };
const BOTH: ServiceNeeds = { redis: true, postgres: true, rabbitmq: false, postgresSingleSessionOk: false };

const PG_TOOLS = { initdb: "/usr/lib/postgresql/16/bin/initdb", postgres: "/usr/lib/postgresql/16/bin/postgres" };

/** findBinary for a machine where Postgres 16 is installed the Debian way (off PATH). */
const debianPostgres = async (name: string, preferDirs: readonly string[] = []) =>
  preferDirs.includes("/usr/lib/postgresql/16/bin") && (name === "initdb" || name === "postgres")
    ? `/usr/lib/postgresql/16/bin/${name}`
    : undefined;

describe("rung 1: REDIS_URL / DATABASE_URL", () => {
  it("uses REDIS_URL when it answers, and looks nowhere else", async () => {
    const machine = fakeMachine({ probeRedis: async () => OK });
    const result = await resolveServices(REDIS_ONLY, {
      env: { REDIS_URL: "redis://cache.internal:6380" },
      deps: machine.deps,
    });

    expect(result.unavailable).toEqual([]);
    expect(result.resolved).toMatchObject([
      { name: "redis", source: "env", url: "redis://cache.internal:6380", concurrentSessions: true },
    ]);
    expect(
      machine.called("probeRedis").map((c) => c.arg),
      "the default port is not probed when the variable is set",
    ).toEqual(["redis://cache.internal:6380"]);
    expect(result.resolved[0]?.describe).toContain("REDIS_URL");
  });

  it("uses DATABASE_URL when it answers, and prints it without its password", async () => {
    const machine = fakeMachine({ probePostgres: async () => OK });
    const url = "postgres://app:s3cret@db.internal:5432/course";
    const result = await resolveServices(POSTGRES_ONLY, { env: { DATABASE_URL: url }, deps: machine.deps });

    expect(result.resolved).toMatchObject([{ name: "postgres", source: "env", url }]);
    expect(result.resolved[0]?.describe).not.toContain("s3cret");
    expect(result.resolved[0]?.describe).toContain("DATABASE_URL");
  });

  it("reports an unreachable REDIS_URL as an error naming the variable, without falling through to a local server", async () => {
    const machine = fakeMachine({
      probeRedis: async (url) => (url.includes("6379") ? OK : REFUSED),
      findBinary: async () => "/usr/bin/redis-server",
    });
    const result = await resolveServices(REDIS_ONLY, {
      env: { REDIS_URL: "redis://127.0.0.1:7777" },
      deps: machine.deps,
    });

    expect(result.resolved, "a local Redis exists, but the learner asked for another one").toEqual([]);
    expect(result.unavailable).toHaveLength(1);
    const message = result.unavailable[0]?.message ?? "";
    expect(message).toContain("REDIS_URL");
    expect(message).toContain("redis://127.0.0.1:7777");
    expect(message).toContain("connection refused");
    expect(machine.called("probeRedis")).toHaveLength(1);
    expect(machine.called("startPrivateRedis")).toEqual([]);
  });

  it("reports an unreachable DATABASE_URL as an error naming the variable, with the password masked", async () => {
    const machine = fakeMachine({
      probePostgres: async () => ({ ok: false, kind: "timeout", reason: "no answer within 3000 ms" }),
    });
    const result = await resolveServices(POSTGRES_SINGLE, {
      env: { DATABASE_URL: "postgres://app:s3cret@db.internal/x" },
      deps: machine.deps,
    });

    const message = result.unavailable[0]?.message ?? "";
    expect(message).toContain("DATABASE_URL");
    expect(message).toContain("no answer within 3000 ms");
    expect(message).not.toContain("s3cret");
    expect(machine.called("startEmbeddedPostgres"), "no silent fallback to PGlite either").toEqual([]);
  });

  it("treats an empty variable as unset", async () => {
    const machine = fakeMachine({ probeRedis: async () => OK });
    const result = await resolveServices(REDIS_ONLY, { env: { REDIS_URL: "  " }, deps: machine.deps });
    expect(result.resolved).toMatchObject([{ source: "local", url: "redis://127.0.0.1:6379" }]);
  });
});

describe("rung 2: a server on the default loopback port", () => {
  it("uses Redis on 127.0.0.1:6379 when it answers PING", async () => {
    const machine = fakeMachine({ probeRedis: async () => OK });
    const lines: string[] = [];
    const result = await resolveServices(REDIS_ONLY, { env: {}, deps: machine.deps, log: (line) => lines.push(line) });

    expect(result.resolved).toMatchObject([
      { source: "local", url: "redis://127.0.0.1:6379", describe: "redis: 127.0.0.1:6379 (local)" },
    ]);
    expect(lines).toEqual(["redis: 127.0.0.1:6379 (local)"]);
    expect(machine.called("findBinary"), "no binary lookup once a server answers").toEqual([]);
  });

  it("tries user postgres then the login user then root, database test then postgres, and keeps the first that works", async () => {
    const tried: string[] = [];
    const machine = fakeMachine({
      whoami: () => "ada",
      probePostgres: async (url): Promise<ProbeResult> => {
        tried.push(url);
        if (url.includes("//postgres@"))
          return { ok: false, kind: "no-role", reason: 'role "postgres" does not exist' };
        if (url.endsWith("/test")) return { ok: false, kind: "no-database", reason: 'database "test" does not exist' };
        return OK;
      },
    });
    const result = await resolveServices(POSTGRES_ONLY, { env: {}, deps: machine.deps });

    expect(tried, "a missing role skips that role's other databases").toEqual([
      "postgres://postgres@127.0.0.1:5432/test",
      "postgres://ada@127.0.0.1:5432/test",
      "postgres://ada@127.0.0.1:5432/postgres",
    ]);
    expect(result.resolved).toMatchObject([{ source: "local", url: "postgres://ada@127.0.0.1:5432/postgres" }]);
    expect(result.resolved[0]?.describe).toBe("postgres: 127.0.0.1:5432, user ada, database postgres (local)");
  });

  it("stops probing the default Postgres port after the first refusal instead of trying every user", async () => {
    const machine = fakeMachine();
    await resolveServices(POSTGRES_ONLY, { env: {}, deps: machine.deps });
    expect(machine.called("probePostgres")).toHaveLength(1);
  });

  it("moves on when the local server wants a password, and says so in the message", async () => {
    const machine = fakeMachine({
      probePostgres: async () => ({
        ok: false,
        kind: "auth",
        reason: "it wants a password or rejects this user (password authentication failed)",
      }),
    });
    const result = await resolveServices(POSTGRES_ONLY, { env: {}, deps: machine.deps });
    const message = result.unavailable[0]?.message ?? "";
    expect(message).toContain("127.0.0.1:5432: it answers, but refused every user and database tried");
    expect(message).toContain("password");
  });
});

describe("rung 3: an installed server started privately", () => {
  it("starts the redis-server found on PATH when nothing listens on 6379", async () => {
    const server = fakeServer("redis://127.0.0.1:41234", "127.0.0.1:41234");
    const machine = fakeMachine({
      findBinary: async (name) => (name === "redis-server" ? "/opt/redis/bin/redis-server" : undefined),
      startPrivateRedis: async () => server,
    });
    const result = await resolveServices(REDIS_ONLY, { env: {}, deps: machine.deps });

    expect(machine.called("startPrivateRedis").map((c) => c.arg)).toEqual(["/opt/redis/bin/redis-server"]);
    expect(result.resolved).toMatchObject([{ source: "private", url: "redis://127.0.0.1:41234" }]);
    expect(result.resolved[0]?.describe).toBe("redis: private redis-server on 127.0.0.1:41234 (started for this run)");
    await result.stopAll();
    await result.stopAll();
    expect(server.stops, "stopAll stops what the run started, once").toBe(1);
  });

  it("starts a private Postgres from initdb found in /usr/lib/postgresql/N/bin when not root", async () => {
    const machine = fakeMachine({
      findBinary: debianPostgres,
      postgresBinDirs: async () => ["/usr/lib/postgresql/16/bin"],
      startPrivatePostgres: async () => fakeServer("postgres://postgres@127.0.0.1:45678/postgres", "127.0.0.1:45678"),
    });
    const result = await resolveServices(POSTGRES_ONLY, { env: {}, deps: machine.deps });

    expect(machine.called("startPrivatePostgres").map((c) => c.arg)).toEqual([JSON.stringify(PG_TOOLS)]);
    expect(result.resolved).toMatchObject([
      { source: "private", url: "postgres://postgres@127.0.0.1:45678/postgres", concurrentSessions: true },
    ]);
  });

  it("skips the private Postgres as root, with the reason in the message, and moves on", async () => {
    const machine = fakeMachine({
      findBinary: debianPostgres,
      postgresBinDirs: async () => ["/usr/lib/postgresql/16/bin"],
      isRoot: () => true,
    });
    const result = await resolveServices(POSTGRES_ONLY, { env: {}, deps: machine.deps });

    expect(machine.called("startPrivatePostgres")).toEqual([]);
    expect(machine.called("containerRuntime"), "the next rung is still tried").toHaveLength(1);
    const message = result.unavailable[0]?.message ?? "";
    expect(message).toContain("/usr/lib/postgresql/16/bin/postgres");
    expect(message).toMatch(/runs as root.*refuses to run as root/);
  });

  it("records why a private server failed to start and tries the next rung", async () => {
    const machine = fakeMachine({
      findBinary: async () => "/usr/bin/redis-server",
      startPrivateRedis: async () => {
        throw new Error("/usr/bin/redis-server exited with code 1: Fatal error loading the DB");
      },
    });
    const result = await resolveServices(REDIS_ONLY, { env: {}, deps: machine.deps });
    expect(machine.called("containerRuntime")).toHaveLength(1);
    expect(result.unavailable[0]?.message).toContain("Fatal error loading the DB");
  });

  it("says when no binary was found", async () => {
    const result = await resolveServices(BOTH, { env: {}, deps: fakeMachine().deps });
    const [redis, postgres] = result.unavailable;
    expect(redis?.message).toContain("no redis-server on PATH");
    expect(postgres?.message).toContain("no initdb on PATH");
  });
});
