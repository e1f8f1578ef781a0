import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describeExit, lastLines, removeTempDir, spawnManaged, trackTempDir } from "./child";
import { LOOPBACK, freePort } from "./ports";
import { probeRedis } from "./probe";
import { pollUntil, reasonOf } from "./timing";
import type { ProbeResult, StartedServer } from "./types";

export const REDIS_DEFAULT_URL = "redis://127.0.0.1:6379";
export const REDIS_IMAGE = "redis:7-alpine";
export const REDIS_PORT = 6379;

/** How long a freshly started redis-server may take to answer PING (it usually takes ~10 ms). */
const READY_TIMEOUT_MS = 5_000;
const STOP_GRACE_MS = 3_000;

export interface PrivateServer extends StartedServer {
  readonly pid: number | undefined;
  /** The temp dir the server works in; stop() removes it. */
  readonly dir: string;
}

/** The command line of a throwaway server: loopback only, nothing persisted, in the foreground so we own it. */
export function privateRedisArgs(port: number, dir: string): string[] {
  return [
    "--port",
    String(port),
    "--bind",
    LOOPBACK,
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
    "--daemonize",
    "no",
  ];
}

/**
 * Starts `binary` (redis-server) on a free loopback port in a fresh temp dir and waits until
 * it answers PING. Retries once on a port taken in between; stop() kills it and removes the dir.
 */
export async function startPrivateRedis(
  binary: string,
  probe: (url: string, timeoutMs: number) => Promise<ProbeResult> = probeRedis,
): Promise<PrivateServer> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      return await startOnce(binary, probe);
    } catch (error) {
      lastError = error;
      if (!/in use/i.test(reasonOf(error))) break;
    }
  }
  throw lastError;
}

async function startOnce(
  binary: string,
  probe: (url: string, timeoutMs: number) => Promise<ProbeResult>,
): Promise<PrivateServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kata-redis-"));
  trackTempDir(dir);
  const port = await freePort();
  const url = `redis://${LOOPBACK}:${port}`;
  const child = spawnManaged(binary, privateRedisArgs(port, dir), { cwd: dir, cleanupDir: dir });
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      // SIGTERM is redis-server's orderly shutdown; with --save "" it writes nothing.
      await child.stop("SIGTERM", STOP_GRACE_MS);
      await removeTempDir(dir).catch(() => {});
    })());
  try {
    await pollUntil(async () => ((await probe(url, 500)).ok ? true : undefined), {
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 50,
      what: `redis-server on port ${port} answering PING`,
      giveUp: () => (child.hasExited() ? "exited" : undefined),
    });
  } catch (error) {
    const status = child.hasExited() ? describeExit(await child.exited) : reasonOf(error);
    await stop();
    throw new Error(`${binary} ${status}: ${lastLines(child.output())}`);
  }
  return { url, address: `${LOOPBACK}:${port}`, pid: child.pid, dir, stop };
}
