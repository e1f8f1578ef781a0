// These tests use the real machine: the servers on the default ports, the redis-server and
// initdb binaries, PGlite. Each one is skipped where its prerequisite is missing, checked
// with plain node:net or PATH, independently of the code under test.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { resolveServices } from "../../src/services";

import { probePostgres, probeRedis } from "../../src/services/probe";
import { startPrivateRedis } from "../../src/services/redis";
import {
  isRoot,
  listening,
  portOf,
  postgresTools,
  processAlive,
  redisServer,
  stoppedAfterEach,
  withoutDefaultPort,
} from "./machine";

const toStop = stoppedAfterEach();

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
