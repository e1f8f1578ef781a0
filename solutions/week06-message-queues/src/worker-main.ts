// Reference solution for the `graceful-worker` kata, part 2: the worker process. It runs the
// credit-account consumer of the idempotent-consumer kata under the graceful lifecycle, and is
// what a container's entrypoint would start.
//
// Stryker disable all: this file only runs in the child processes of graceful-worker.test.ts,
// where an in-process coverage tool cannot see it; those tests exercise it end to end.

import { Redis } from "ioredis";
import pg from "pg";
import { z } from "zod";
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
  // One line per event, written synchronously enough for a supervisor (or a test) to follow.
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

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    // A second signal (an impatient Ctrl-C) changes nothing: the deadline already bounds the wait.
    if (stopping) return log(`${signal} again: already draining`);
    stopping = true;
    log(`${signal} received`);
    const report = await graceful.shutdown(config.SHUTDOWN_DEADLINE_MS);
    hold?.close();
    if (report.drained) {
      await pool.end();
      log("stopped");
      // Nothing is left open, so the event loop empties and the process ends with this code.
      process.exitCode = 0;
      return;
    }
    // A job is still running and holds a pool client: waiting for it is what the deadline
    // forbids. Exit now; its lock expires and another worker recovers it as a stalled job.
    log(`abandoned ${report.abandoned.join(" ")}`);
    process.exit(1);
  };
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
      stop(signal).catch((error: unknown) => {
        process.stderr.write(`shutdown failed: ${error instanceof Error ? error.stack : String(error)}\n`);
        process.exit(1);
      });
    });
  }

  await graceful.ready();
  log("ready");
}

main().catch((error: unknown) => {
  process.stderr.write(`worker failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
