import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findBinary, pathDirs, postgresBinDirs } from "../../src/services/binaries";
import { unavailableMessage } from "../../src/services/messages";
import {
  findLocalPostgres,
  locatePostgresTools,
  localPostgresCandidates,
  privatePostgresArgs,
} from "../../src/services/postgres";
import { classifyPostgresError, classifyRedisError } from "../../src/services/probe";
import { fatalError, settingsFromOptions, settingsFromStartup, splitOptions } from "../../src/services/startup-options";
import { privateRedisArgs } from "../../src/services/redis";
import { TimeoutError, withTimeout } from "../../src/services/timing";
import { hostPort, redactUrl } from "../../src/services/urls";

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe("probe error classification", () => {
  it("tells a refused connection, a timeout, a password problem and a missing database apart", () => {
    expect(classifyRedisError(withCode("connect ECONNREFUSED 127.0.0.1:6379", "ECONNREFUSED"), 800)).toMatchObject({
      ok: false,
      kind: "refused",
    });
    expect(classifyRedisError(new TimeoutError("PING", 800), 800)).toMatchObject({
      kind: "timeout",
      reason: "no answer within 800 ms",
    });
    expect(classifyRedisError(new Error("NOAUTH Authentication required."), 800)).toMatchObject({ kind: "auth" });
    expect(classifyRedisError(new Error("WRONGPASS invalid username-password pair"), 800)).toMatchObject({
      kind: "auth",
    });

    expect(classifyPostgresError(withCode('database "test" does not exist', "3D000"), 800)).toMatchObject({
      kind: "no-database",
    });
    expect(classifyPostgresError(withCode('role "postgres" does not exist', "28000"), 800)).toMatchObject({
      kind: "no-role",
    });
    expect(classifyPostgresError(withCode('no pg_hba.conf entry for host "127.0.0.1"', "28000"), 800)).toMatchObject({
      kind: "auth",
    });
    expect(classifyPostgresError(withCode('password authentication failed for user "x"', "28P01"), 800)).toMatchObject({
      kind: "auth",
    });
    expect(
      classifyPostgresError(new Error("SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string"), 800),
    ).toMatchObject({ kind: "auth" });
    expect(classifyPostgresError(new Error("timeout expired"), 800)).toMatchObject({ kind: "timeout" });
    expect(classifyPostgresError(withCode("getaddrinfo ENOTFOUND db", "ENOTFOUND"), 800)).toMatchObject({
      kind: "error",
    });
  });
});

describe("timing", () => {
  it("withTimeout rejects with a TimeoutError and runs the teardown when the bound passes", async () => {
    let tornDown = false;
    const never = new Promise<never>(() => {});
    await expect(withTimeout(never, 20, "a hang", () => (tornDown = true))).rejects.toBeInstanceOf(TimeoutError);
    expect(tornDown).toBe(true);
    await expect(withTimeout(Promise.resolve(7), 1_000, "quick")).resolves.toBe(7);
  });
});

describe("urls", () => {
  it("masks the password and keeps the rest", () => {
    expect(redactUrl("postgres://app:s3cret@db:5432/course")).toBe("postgres://app:***@db:5432/course");
    expect(redactUrl("redis://127.0.0.1:6379")).toBe("redis://127.0.0.1:6379");
    expect(hostPort("redis://cache", 6379)).toBe("cache:6379");
  });
});

describe("Postgres candidates on the default port", () => {
  it("lists postgres, the login user and root, each with database test then postgres, without duplicates", () => {
    expect(localPostgresCandidates("root").map((c) => `${c.user}/${c.database}`)).toEqual([
      "postgres/test",
      "postgres/postgres",
      "root/test",
      "root/postgres",
    ]);
    expect(localPostgresCandidates("ada").map((c) => c.user)).toEqual([
      "postgres",
      "postgres",
      "ada",
      "ada",
      "root",
      "root",
    ]);
  });

  it("stops at the first timeout and reports that something listens", async () => {
    let probes = 0;
    const result = await findLocalPostgres(
      async () => {
        probes++;
        return { ok: false, kind: "timeout", reason: "no answer within 800 ms" };
      },
      "ada",
      800,
    );
    expect(probes).toBe(1);
    expect(result).toEqual({ ok: false, reason: "no answer within 800 ms", listening: true });
  });
});

describe("command lines of private servers", () => {
  it("binds Redis to loopback, persists nothing and stays in the foreground", () => {
    expect(privateRedisArgs(40000, "/tmp/x").join(" ")).toBe(
      "--port 40000 --bind 127.0.0.1 --save  --appendonly no --dir /tmp/x --daemonize no",
    );
  });

  it("binds Postgres to loopback only, with no unix socket", () => {
    const args = privatePostgresArgs("/tmp/x/data", 40001);
    expect(args).toEqual(
      expect.arrayContaining([
        "-D",
        "/tmp/x/data",
        "-p",
        "40001",
        "listen_addresses=127.0.0.1",
        "unix_socket_directories=",
      ]),
    );
  });
});

describe("finding binaries", () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "kata-bin-test-"));
    const exe = async (file: string) => {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, "#!/bin/sh\n");
      await chmod(file, 0o755);
    };
    await exe(path.join(root, "pg", "15", "bin", "initdb"));
    await exe(path.join(root, "pg", "15", "bin", "postgres"));
    await exe(path.join(root, "pg", "9.6", "bin", "initdb"));
    await mkdir(path.join(root, "pg", "not-a-version"));
    await mkdir(path.join(root, "local-bin"));
    await symlink(path.join(root, "pg", "15", "bin", "initdb"), path.join(root, "local-bin", "initdb"));
    await writeFile(path.join(root, "local-bin", "not-executable"), "");
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("looks in the preferred folders, then PATH, and keeps a symlink as found (multi-call binaries read argv[0])", async () => {
    const envPath = [path.join(root, "empty"), path.join(root, "local-bin")].join(path.delimiter);
    expect(await findBinary("initdb", [], envPath)).toBe(path.join(root, "local-bin", "initdb"));
    expect(await findBinary("not-executable", [], envPath)).toBeUndefined();
    expect(await findBinary("initdb", [path.join(root, "pg", "9.6", "bin")], envPath)).toBe(
      path.join(root, "pg", "9.6", "bin", "initdb"),
    );
    expect(pathDirs(`a${path.delimiter}${path.delimiter}b`)).toEqual(["a", "b"]);
  });

  it("lists versioned Postgres folders newest first, ignoring other entries and missing roots", async () => {
    const dirs = await postgresBinDirs([
      { root: path.join(root, "pg"), entry: /^(\d+(?:\.\d+)?)$/, bin: "bin" },
      { root: path.join(root, "missing"), entry: /^(\d+)$/, bin: "bin" },
    ]);
    expect(dirs).toEqual([path.join(root, "pg", "15", "bin"), path.join(root, "pg", "9.6", "bin")]);
  });

  it("pairs initdb with the postgres binary next to it, following a symlinked initdb to its installation", async () => {
    const envPath = path.join(root, "local-bin");
    const tools = await locatePostgresTools({
      findBinary: (name, prefer) => findBinary(name, prefer, envPath),
      postgresBinDirs: async () => [],
    });
    expect(tools).toEqual({
      found: true,
      tools: {
        initdb: path.join(root, "pg", "15", "bin", "initdb"),
        postgres: path.join(root, "pg", "15", "bin", "postgres"),
      },
    });
    const lonely = await locatePostgresTools({
      findBinary: (name, prefer) => findBinary(name, prefer, path.join(root, "pg", "9.6", "bin")),
      postgresBinDirs: async () => [],
    });
    expect(lonely).toMatchObject({
      found: false,
      reason: expect.stringContaining("no postgres server binary next to it"),
    });
  });
});

describe("messages", () => {
  it("lists every attempt in order before the ways to get the service", () => {
    const message = unavailableMessage("redis", [
      { what: "REDIS_URL", why: "not set" },
      { what: "127.0.0.1:6379", why: "connection refused" },
    ]);
    const lines = message.split("\n");
    expect(lines[0]).toBe("redis: no Redis server could be found or started. Tried, in order:");
    expect(lines.slice(1, 3)).toEqual(["  - REDIS_URL: not set", "  - 127.0.0.1:6379: connection refused"]);
    expect(message.indexOf("docker compose up -d redis")).toBeGreaterThan(message.indexOf("connection refused"));
  });
});

describe("startup settings for the embedded server", () => {
  /** A protocol 3.0 startup packet with these parameters, as pg sends it. */
  const startupPacket = (params: Record<string, string>): Buffer => {
    const body = Buffer.concat([
      ...Object.entries(params).map(([k, v]) => Buffer.from(`${k}\0${v}\0`)),
      Buffer.from([0]),
    ]);
    const header = Buffer.alloc(8);
    header.writeInt32BE(body.length + 8, 0);
    header.writeInt32BE(196_608, 4);
    return Buffer.concat([header, body]);
  };

  it("splits options like Postgres, with backslash-escaped spaces", () => {
    expect(splitOptions("-c search_path=a  -c x=b\\ c")).toEqual(["-c", "search_path=a", "-c", "x=b c"]);
  });

  it("reads -c name=value, -cname=value and --name=value", () => {
    expect(settingsFromOptions("-c search_path=kata_x -cstatement_timeout=5s --lock-timeout=1s -v ignored")).toEqual([
      ["search_path", "kata_x"],
      ["statement_timeout", "5s"],
      ["lock_timeout", "1s"],
    ]);
  });

  it("takes the options and the other GUC parameters from a startup packet, not user or database", () => {
    const packet = startupPacket({
      user: "postgres",
      database: "postgres",
      options: "-c search_path=kata_x",
      application_name: "kata",
      client_encoding: "UTF8",
    });
    expect(settingsFromStartup(packet)).toEqual([
      ["search_path", "kata_x"],
      ["application_name", "kata"],
    ]);
  });

  it("builds a well-formed FATAL ErrorResponse", () => {
    const message = fatalError('unrecognized configuration parameter "x"');
    expect(message.toString("latin1", 0, 1)).toBe("E");
    expect(message.readInt32BE(1)).toBe(message.length - 1);
    expect(message.toString("utf8")).toContain("SFATAL\0");
    expect(message.toString("utf8")).toContain('Munrecognized configuration parameter "x"\0');
    expect(message.at(-1)).toBe(0);
  });
});
