// Kata `graceful-worker`, part 2: the worker process (what a container's entrypoint starts).
//
// It runs your CreditConsumer (idempotent-consumer kata: do that one first) under your
// graceful worker (graceful-worker.ts). The configuration and the resources are set up for
// you below; what is left is the process's lifecycle, which the tests drive with real signals:
// - print a line `ready` once the worker is ready to take jobs;
// - on SIGTERM or SIGINT, shut down once with config.SHUTDOWN_DEADLINE_MS (shutdown prints
//   `draining`); a second signal must not start a second shutdown;
// - when drained: close the hold gate and the pg pool, print `stopped`, and let the process
//   end by itself with exit code 0 (set process.exitCode; nothing may be left open);
// - when jobs were abandoned: print `abandoned <ids>` and exit with code 1 at once (a job still
//   holds a pool client, so waiting for the pool would wait for the job).
// Tests: tests/graceful-worker.test.ts (`npm run check week6 graceful-worker`).
// Keep the exported names and signatures: the tests import them.

import { Redis } from "ioredis";
import pg from "pg";
import { z } from "zod";
import { NotImplementedError } from "#kata";
import { ORDERS_QUEUE } from "./contract";
import { startGracefulWorker } from "./graceful-worker";
import { createHoldGate } from "./hold-gate";
import { CreditConsumer } from "./idempotent-consumer";

const millis = (fallback: number) => z.coerce.number().int().min(0).default(fallback);

const configSchema = z.object({
  REDIS_URL: z.string().min(1),
  QUEUE_PREFIX: z.string().min(1).default("bull"),
  QUEUE_NAME: z.string().min(1).default(ORDERS_QUEUE),
  DATABASE_URL: z.string().min(1),
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .optional(),
  LOCK_DURATION_MS: millis(30_000),
  STALLED_INTERVAL_MS: millis(30_000),
  // Below Kubernetes' default 30 s grace period, so we finish before the SIGKILL does it for us.
  SHUTDOWN_DEADLINE_MS: millis(25_000),
  HOLD_KEY: z.string().min(1).optional(),
});

/** Reads the process configuration from the environment; a clear error names every bad variable. */
export function readConfig(env: NodeJS.ProcessEnv) {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(
      `invalid worker configuration: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  }
  return parsed.data;
}

async function main(): Promise<void> {
  const config = readConfig(process.env);
  const log = (line: string) => process.stdout.write(`${line}\n`);

  const pool = new pg.Pool({
    connectionString: config.DATABASE_URL,
    max: 4,
    // Idle clients stay open until pool.end(): a worker reuses them job after job, and its
    // shutdown closes them itself (with pg's default, they would linger 10 s after the drain).
    idleTimeoutMillis: 0,
    ...(config.DATABASE_SCHEMA ? { options: `-c search_path=${config.DATABASE_SCHEMA}` } : {}),
  });
  pool.on("error", (error) => log(`postgres error: ${error.message}`));
  const connection = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
  connection.on("error", (error) => log(`redis error: ${error.message}`));
  const hold = config.HOLD_KEY ? createHoldGate(config.REDIS_URL, config.HOLD_KEY, log) : undefined;
  const consumer = new CreditConsumer(pool, hold ? { afterCommit: (id) => hold.afterCommit(id) } : {});

  const graceful = startGracefulWorker({
    queueName: config.QUEUE_NAME,
    connection,
    prefix: config.QUEUE_PREFIX,
    processor: consumer.processor(),
    lockDurationMs: config.LOCK_DURATION_MS,
    stalledIntervalMs: config.STALLED_INTERVAL_MS,
    log,
  });

  // TODO: on SIGTERM and SIGINT, shut down once and end the process as the header says.
  // TODO: wait until the worker is ready, then print "ready".
  void graceful;
  throw new NotImplementedError("graceful-worker");
}

main().catch((error: unknown) => {
  process.stderr.write(`worker failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
