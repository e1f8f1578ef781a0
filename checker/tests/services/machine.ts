// The real machine as these tests see it: which servers listen, which binaries exist.
import net from "node:net";
import { afterEach } from "vitest";
import { type ProbeResult, type ServiceResolution } from "../../src/services";
import { findBinary, postgresBinDirs } from "../../src/services/binaries";
import { locatePostgresTools } from "../../src/services/postgres";

// These tests use the real machine: the servers on the default ports, the redis-server and
// initdb binaries, PGlite. Each one is skipped where its prerequisite is missing, checked
// with plain node:net or PATH, independently of the code under test.

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function listening(port: number, timeoutMs = 500): Promise<boolean> {
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

export function portOf(url: string): number {
  return Number(new URL(url).port);
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export const REFUSED: ProbeResult = {
  ok: false,
  kind: "refused",
  reason: "connection refused, nothing listens there (forced by the test)",
};
/** The real probe everywhere except the default port, which the test pretends is empty. */
export const withoutDefaultPort =
  (defaultPort: number, real: (url: string, timeoutMs: number) => Promise<ProbeResult>) =>
  (url: string, timeoutMs: number): Promise<ProbeResult> =>
    portOf(url) === defaultPort ? Promise.resolve(REFUSED) : real(url, timeoutMs);

export const localRedis = await listening(6379);
export const localPostgres = await listening(5432);
export const localRabbit = await listening(5672);
export const redisServer = await findBinary("redis-server");
export const isRoot = process.getuid?.() === 0;
export const postgresTools = await locatePostgresTools({
  findBinary: (name, dirs) => findBinary(name, dirs),
  postgresBinDirs: () => postgresBinDirs(),
});

/** Resolutions a test started; call at a test file's top level to stop them after each test. */
export function stoppedAfterEach(): ServiceResolution[] {
  const toStop: ServiceResolution[] = [];
  afterEach(async () => {
    await Promise.all(toStop.splice(0).map((resolution) => resolution.stopAll()));
  });
  return toStop;
}
