/**
 * The resilient service wired for a chaos test: Postgres and Redis each behind the learner's
 * fault proxy, a tap counting what reaches Postgres, and a clock whose `now` the test can move.
 */
import { seededRandom } from "#fixtures/random";
import { Redis } from "ioredis";
import { createCatalog } from "../../src/catalog";
import { startFaultProxy, type FaultProxy } from "../../src/fault-proxy";
import { ResilientService, type ResilientServiceOptions } from "../../src/resilient-service";
import { shiftableClock } from "./manual-clock";
import { postgresTraffic, type PostgresTraffic } from "./pg-wire";

export interface Rig {
  readonly service: ResilientService;
  readonly pgProxy: FaultProxy;
  readonly redisProxy: FaultProxy;
  readonly traffic: PostgresTraffic;
  readonly clock: ReturnType<typeof shiftableClock>;
  /** Attempts that reached Postgres so far (queries, and connections that sent none). */
  attempts(): number;
  close(): Promise<void>;
}

const hostPort = (url: string, port: number) => {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port || port) };
};

/** Creates the catalog once per file. */
export async function seedCatalog(pool: Parameters<typeof createCatalog>[0]): Promise<void> {
  await createCatalog(pool, 20);
}

export async function startRig(
  fixtures: { redisUrl: string; redisPrefix: string; databaseUrl: string; schema: string },
  options: Partial<Omit<ResilientServiceOptions, "postgres" | "redis">> = {},
): Promise<Rig> {
  const traffic = postgresTraffic();
  const pgProxy = await startFaultProxy({
    upstream: hostPort(fixtures.databaseUrl, 5432),
    onData: traffic.onData,
    random: seededRandom(17),
  });
  const redisProxy = await startFaultProxy({ upstream: hostPort(fixtures.redisUrl, 6379), random: seededRandom(23) });
  // Fails fast while disconnected and keeps reconnecting, as a production cache client should.
  const redis = new Redis({
    host: "127.0.0.1",
    port: redisProxy.port,
    keyPrefix: fixtures.redisPrefix,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 500,
    retryStrategy: () => 50,
  });
  redis.on("error", () => {});
  const url = new URL(fixtures.databaseUrl);
  url.hostname = "127.0.0.1";
  url.port = String(pgProxy.port);
  const clock = shiftableClock();
  const service = new ResilientService({
    postgres: { connectionString: url.toString(), options: `-c search_path=${fixtures.schema}` },
    redis,
    clock,
    random: seededRandom(31),
    // Generous unless a test says otherwise: the machine may be busy, and a test about caching
    // must not fail because one Redis round trip took 60 ms.
    dbTimeoutMs: 2_000,
    cacheTimeoutMs: 1_000,
    ...options,
  });
  await new Promise<void>((resolve) => (redis.status === "ready" ? resolve() : redis.once("ready", () => resolve())));
  return {
    service,
    pgProxy,
    redisProxy,
    traffic,
    clock,
    attempts: () => traffic.attempts(pgProxy.stats().connectionsAccepted),
    close: async () => {
      await service.close();
      redis.disconnect();
      await Promise.all([pgProxy.close(), redisProxy.close()]);
    },
  };
}

/** Resolves after `ms` of real time: a phase of an experiment, not a wait for an event. */
export const phase = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
